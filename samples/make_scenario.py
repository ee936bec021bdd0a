#!/usr/bin/env python3
"""Writes the bundled sample scenario: one week of a small payments system.

The files are committed; this script documents how they were made and
regenerates them byte for byte (no randomness, fixed times). The system:

- AWS account 111122223333: `payments-api` (EC2 instance role), `ci-deployer`
  (GitHub Actions through OIDC web identity), `ops-automation` (an
  AdministratorAccess role, waived), `support-agent` (an AI agent calling
  Bedrock through LangChain), `reporting-old` (idle since March), and
  `legacy-backup`, an IAM user whose long-term key copies backups nightly.
  A Lambda role nobody inventoried (`shadow-lambda-exec`) also acts.
- An EKS cluster: `payments/payments-api` with bound tokens, `ci/deployer`
  still on a legacy token Secret and once used from a laptop with kubectl.
- Istio with mesh-wide STRICT mTLS; a gitleaks report with one finding.

Expected verdicts (tests/cli/generate.rs asserts them): both satisfied and
not-satisfied findings, one waived risk, one attestation.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "111122223333"
START = 1793059200  # 2026-10-27T00:00:00Z
DAY = 86400


def iso(t):
    import datetime

    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(rel, text):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="\n") as f:
        f.write(text)


def dump(value):
    return json.dumps(value, indent=2, sort_keys=False) + "\n"


counter = [0]


def event_id():
    counter[0] += 1
    return "6f1c%04x-2b8e-4c1a-9d3e-%012x" % (counter[0], counter[0] * 7919)


def assumed(role, session, key, extra=None):
    ctx = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAQX7EXAMPLE" + role.upper().replace("-", "")[:8],
            "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "accountId": ACCOUNT,
            "userName": role,
        },
        "attributes": {"creationDate": "2026-10-27T00:00:00Z", "mfaAuthenticated": "false"},
    }
    if extra:
        ctx.update(extra)
    return {
        "type": "AssumedRole",
        "principalId": f"AROAQX7EXAMPLE{role.upper().replace('-', '')[:8]}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": ctx,
    }


def cloudtrail(t, identity, source, name, resource_arn, rtype, agent, params=None, error=None, read_only=True):
    record = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "10.20.3.14" if "amazonaws.com" not in agent else "ec2.amazonaws.com",
        "userAgent": agent,
        "requestParameters": params or {},
        "responseElements": None,
        "requestID": event_id().replace("-", "")[:20].upper(),
        "eventID": event_id(),
        "readOnly": read_only,
        "resources": [{"ARN": resource_arn, "accountId": ACCOUNT, "type": rtype}],
        "eventType": "AwsApiCall",
        "managementEvent": source != "s3.amazonaws.com",
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management" if source != "s3.amazonaws.com" else "Data",
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    return record


def make_cloudtrail():
    records = []
    api = assumed("payments-api", "i-0a1b2c3d4e5f60718", "ASIAQX7EXAMPLEAPI01", {"ec2RoleDelivery": "2.0"})
    agent_sdk = "aws-sdk-java/2.25.60 Linux/6.1 OpenJDK_64-Bit_Server_VM/21.0.3"
    for h in range(0, 7 * 24, 6):
        t = START + h * 3600 + 300
        records.append(cloudtrail(
            t, api, "secretsmanager.amazonaws.com", "GetSecretValue",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:payments/db-AbCdEf",
            "AWS::SecretsManager::Secret", agent_sdk,
            {"secretId": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:payments/db-AbCdEf"}))
        records.append(cloudtrail(
            t + 60, api, "s3.amazonaws.com", "PutObject",
            f"arn:aws:s3:::acme-payments-receipts/2026/{h:04d}.json", "AWS::S3::Object", agent_sdk,
            {"bucketName": "acme-payments-receipts", "key": f"2026/{h:04d}.json"}, read_only=False))
    # Two refusals: the API asked for a secret outside its path.
    for d in (2, 5):
        records.append(cloudtrail(
            START + d * DAY + 7200, api, "secretsmanager.amazonaws.com", "GetSecretValue",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ops/root-AbCdEf",
            "AWS::SecretsManager::Secret", agent_sdk,
            {"secretId": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ops/root-AbCdEf"},
            error=("AccessDenied", f"User: arn:aws:sts::{ACCOUNT}:assumed-role/payments-api/i-0a1b2c3d4e5f60718 is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ops/root-AbCdEf")))
    ci = assumed("ci-deployer", "GitHubActions", "ASIAQX7EXAMPLECI001", {
        "webIdFederationData": {
            "federatedProvider": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
            "attributes": {}}})
    for d in range(7):
        records.append(cloudtrail(
            START + d * DAY + 14 * 3600, ci, "ecr.amazonaws.com", "PutImage",
            f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/payments-api", "AWS::ECR::Repository",
            "aws-cli/2.17.20 Python/3.11.9 Linux/6.5.0 exe/x86_64.ubuntu.22 md/command#ecr.put-image",
            {"repositoryName": "payments-api", "imageTag": f"2026.10.{27 + d}"}, read_only=False))
    backup = {
        "type": "IAMUser",
        "principalId": "AIDAQX7EXAMPLEBACKUP",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/legacy-backup",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAQX7EXAMPLEBKUP01",
        "userName": "legacy-backup",
    }
    for d in range(7):
        records.append(cloudtrail(
            START + d * DAY + 2 * 3600, backup, "s3.amazonaws.com", "PutObject",
            f"arn:aws:s3:::acme-payments-backup/db/{d}.dump", "AWS::S3::Object",
            "aws-cli/1.18.69 Python/2.7.18 Linux/4.14 botocore/1.16.19",
            {"bucketName": "acme-payments-backup", "key": f"db/{d}.dump"}, read_only=False))
    agent = assumed("support-agent", "ticket-48213", "ASIAQX7EXAMPLEAGNT1")
    for d in range(0, 7, 2):
        records.append(cloudtrail(
            START + d * DAY + 10 * 3600, agent, "bedrock.amazonaws.com", "InvokeModel",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
            "AWS::Bedrock::FoundationModel", "Boto3/1.35.20 md/Botocore#1.35.20 ua/2.0 os/linux lang/python#3.12.4 langchain-aws/0.2.1",
            {"modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0"}))
    shadow = assumed("shadow-lambda-exec", "shadow-export", "ASIAQX7EXAMPLESHDW1")
    for d in (3, 4):
        records.append(cloudtrail(
            START + d * DAY + 3 * 3600, shadow, "s3.amazonaws.com", "GetObject",
            "arn:aws:s3:::acme-payments-receipts/2026/0000.json", "AWS::S3::Object",
            "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 exec-env/AWS_Lambda_go1.x",
            {"bucketName": "acme-payments-receipts", "key": "2026/0000.json"}))
    records.sort(key=lambda r: r["eventTime"])
    # CloudTrail delivers one file per account, region and ~5 minutes; a
    # day per file keeps the sample small.
    for d in range(7):
        day = [r for r in records if r["eventTime"].startswith(iso(START + d * DAY)[:10])]
        write(f"logs/cloudtrail/{ACCOUNT}_CloudTrail_us-east-1_{iso(START + d * DAY)[:10].replace('-', '')}.json",
              dump({"Records": day}))


def k8s_event(t, user, verb, resource, ns, name, code=200, agent="payments-api/1.14 (linux/amd64)", extra=None):
    user_obj = {"username": user, "uid": "5f0e" + user[-6:].encode().hex(), "groups": [
        "system:serviceaccounts", f"system:serviceaccounts:{user.split(':')[2]}", "system:authenticated"]}
    if extra:
        user_obj["extra"] = extra
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": event_id(),
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/namespaces/{ns}/{resource}/{name}",
        "verb": verb,
        "user": user_obj,
        "sourceIPs": ["10.20.8.31"],
        "userAgent": agent,
        "objectRef": {"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": iso(t).replace("Z", ".104512Z"),
        "stageTimestamp": iso(t).replace("Z", ".112873Z"),
        "annotations": {"authorization.k8s.io/decision": "allow" if code < 400 else "forbid",
                        "authorization.k8s.io/reason": ""},
    }


def make_k8s():
    lines = []
    bound = {
        "authentication.kubernetes.io/pod-name": ["payments-api-7d9f8b6c5-x2x9q"],
        "authentication.kubernetes.io/pod-uid": ["8a1c6a0e-4c55-4f6b-9e7a-0d3f2b1c9e11"],
        "authentication.kubernetes.io/credential-id": ["JTI=0c6f3e2a-5b7d-4e1f-9a8b-7c6d5e4f3a2b"],
    }
    for h in range(0, 7 * 24, 8):
        lines.append(k8s_event(START + h * 3600 + 900, "system:serviceaccount:payments:payments-api",
                               "get", "configmaps", "payments", "payments-config", extra=bound))
    for d in range(7):
        lines.append(k8s_event(START + d * DAY + 14 * 3600 + 120, "system:serviceaccount:ci:deployer",
                               "patch", "deployments", "payments", "payments-api",
                               agent="argocd-application-controller/v2.11.7"))
    # Someone used the deployer's legacy token from a laptop.
    lines.append(k8s_event(START + 3 * DAY + 22 * 3600, "system:serviceaccount:ci:deployer",
                           "get", "secrets", "payments", "payments-db",
                           agent="kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350"))
    lines.sort(key=lambda e: e["requestReceivedTimestamp"])
    write("logs/k8s-audit/audit.log", "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in lines))


def make_inventories():
    header = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
              "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
              "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
              "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
              "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
              "cert_1_last_rotated,cert_2_active,cert_2_last_rotated")
    rows = [
        f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2021-06-01T09:12:44+00:00,not_supported,2026-08-02T10:01:17+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        f"legacy-backup,arn:aws:iam::{ACCOUNT}:user/legacy-backup,2022-01-10T08:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-03-14T09:30:00+00:00,2026-11-02T02:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    ]
    write("inventory/credential-report.csv", header + "\n" + "\n".join(rows))
    write("inventory/nhi-inventory.json", dump({"nhi-inventory": [
        {"id": "datadog-api-key-prod-4f2a", "kind": "api-key", "provider": "datadog", "owner": "sre@acme.example",
         "environment": "prod", "credential_type": "static", "created": "2026-09-15", "last_rotated": "2026-09-15",
         "expires": "2027-03-15", "last_used": "2026-11-02", "scopes": ["metrics_write", "logs_write"],
         "description": "Agent key for the payments cluster"},
        {"id": "github-app-acme-release-bot", "kind": "oauth-app", "provider": "github", "owner": "platform@acme.example",
         "environment": "prod", "credential_type": "ephemeral", "created": "2025-02-01", "last_used": "2026-11-02",
         "scopes": ["contents:write", "packages:write"], "description": "Installation tokens expire after one hour"},
        {"id": "support-agent", "kind": "agent", "provider": "internal", "owner": "support-eng@acme.example",
         "environment": "prod", "credential_type": "ephemeral", "created": "2026-06-01", "last_used": "2026-11-02",
         "description": "Ticket triage agent (LangChain) with the support-agent role"},
    ]}))
    write("inventory/k8s-serviceaccounts.yaml", """# kubectl get serviceaccounts,secrets -A -o yaml, trimmed to what matters
apiVersion: v1
kind: ServiceAccount
metadata:
  name: payments-api
  namespace: payments
  creationTimestamp: "2026-02-11T10:15:00Z"
  labels:
    team: payments
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/payments-api
automountServiceAccountToken: true
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
  namespace: ci
  creationTimestamp: "2023-05-04T16:40:00Z"
  labels:
    team: platform
secrets:
- name: deployer-token-7qk2z
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: deployer-token-7qk2z
  namespace: ci
  creationTimestamp: "2023-05-04T16:40:02Z"
  annotations:
    kubernetes.io/service-account.name: deployer
    kubernetes.io/service-account.uid: 3b9d2f0a-6c1e-4d8b-a7f5-2e4c6b8d0f13
  labels:
    kubernetes.io/legacy-token-last-used: "2026-10-30"
data:
  token: ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklrTjZXRzkzT1hKRVEzWXhkVU5aIn0uZXhhbXBsZQ==
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: metrics-reader
  namespace: monitoring
  creationTimestamp: "2026-01-20T12:00:00Z"
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  replicas: 3
""")


def policy(statements):
    return {"Version": "2012-10-17", "Statement": statements}


def make_policies():
    admin_arn = "arn:aws:iam::aws:policy/AdministratorAccess"

    def role(name, trust, inline, attached=(), tags=(), last_used=None, created="2025-04-02T10:00:00+00:00"):
        r = {
            "Path": "/",
            "RoleName": name,
            "RoleId": "AROAQX7EXAMPLE" + name.upper().replace("-", "")[:8],
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "CreateDate": created,
            "AssumeRolePolicyDocument": policy(trust),
            "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": policy(inline)}] if inline else [],
            "AttachedManagedPolicies": [{"PolicyName": a.split("/")[-1], "PolicyArn": a} for a in attached],
            "Tags": [{"Key": k, "Value": v} for k, v in tags],
            "RoleLastUsed": {"LastUsedDate": last_used, "Region": "us-east-1"} if last_used else {},
        }
        return r

    roles = [
        role("payments-api",
             [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
             [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::acme-payments-receipts/*"},
              {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:payments/*"}],
             tags=[("owner", "payments@acme.example")], last_used="2026-11-02T18:05:00+00:00"),
        role("ci-deployer",
             [{"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
               "Action": "sts:AssumeRoleWithWebIdentity",
               "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                              "token.actions.githubusercontent.com:sub": "repo:acme/payments-api:ref:refs/heads/main"}}}],
             [{"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"],
               "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/payments-api"},
              {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}],
             tags=[("owner", "platform@acme.example")], last_used="2026-11-02T14:00:00+00:00"),
        role("ops-automation",
             [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole",
               "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}],
             None, attached=[admin_arn], tags=[("owner", "sre@acme.example")], last_used="2026-10-29T08:12:00+00:00"),
        role("support-agent",
             [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
             [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.*"}],
             tags=[("team", "support-eng")], last_used="2026-11-02T10:00:00+00:00", created="2026-06-01T09:00:00+00:00"),
        role("reporting-old",
             [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
             [{"Effect": "Allow", "Action": "athena:StartQueryExecution", "Resource": f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup/reporting"}],
             last_used="2026-03-01T06:00:00+00:00", created="2023-09-12T12:00:00+00:00"),
    ]
    users = [{
        "Path": "/",
        "UserName": "legacy-backup",
        "UserId": "AIDAQX7EXAMPLEBACKUP",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/legacy-backup",
        "CreateDate": "2022-01-10T08:00:00+00:00",
        "UserPolicyList": [{"PolicyName": "backup-write", "PolicyDocument": policy([
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::acme-payments-backup/*"}])}],
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "Tags": [{"Key": "owner", "Value": "dba@acme.example"}],
    }]
    write("policies/iam-authorization-details.json", dump({
        "UserDetailList": users,
        "GroupDetailList": [],
        "RoleDetailList": roles,
        "Policies": [{
            "PolicyName": "AdministratorAccess",
            "PolicyId": "ANPAIWMBCKSKIEE64ZLYK",
            "Arn": admin_arn,
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "IsAttachable": True,
            "PolicyVersionList": [{"Document": policy([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
                                   "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": "2015-02-06T18:39:46+00:00"}],
        }],
    }))
    write("policies/rbac.yaml", """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: deployer-edit
  namespace: payments
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- kind: ServiceAccount
  name: deployer
  namespace: ci
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: payments-config-reader
  namespace: payments
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["payments-config"]
  verbs: ["get", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: payments-api-config
  namespace: payments
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: payments-config-reader
subjects:
- kind: ServiceAccount
  name: payments-api
  namespace: payments
""")
    write("policies/istio-peer-authentication.yaml", """apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
""")


def make_scanners():
    write("scanners/gitleaks-report.json", dump([{
        "RuleID": "datadog-access-token",
        "Description": "Detected a Datadog Access Token, potentially risking monitoring and analytics data exposure and manipulation.",
        "StartLine": 12, "EndLine": 12, "StartColumn": 18, "EndColumn": 57,
        "Match": "DD_API_KEY=REDACTED-IN-THIS-SAMPLE",
        "Secret": "REDACTED-IN-THIS-SAMPLE",
        "File": "deploy/helm/values-staging.yaml",
        "SymlinkFile": "",
        "Commit": "9c1e4b7a2f3d5e6c8b0a1f2e3d4c5b6a7f8e9d0c",
        "Link": "https://github.com/acme/payments-api/blob/9c1e4b7a2f3d5e6c8b0a1f2e3d4c5b6a7f8e9d0c/deploy/helm/values-staging.yaml#L12",
        "Entropy": 3.9, "Author": "J. Doe", "Email": "jdoe@acme.example",
        "Date": "2026-10-21T16:02:11Z", "Message": "staging values",
        "Tags": [], "Fingerprint": "9c1e4b7a2f3d5e6c8b0a1f2e3d4c5b6a7f8e9d0c:deploy/helm/values-staging.yaml:datadog-access-token:12",
    }]))


def make_attestation():
    write("attestations/nhi-access-review-2026Q3.md", """# Quarterly review of non-human identity access, 2026 Q3

Reviewed on 2026-10-15 by the platform security lead with the owners of each
NHI in the payments boundary (AWS roles and users, Kubernetes service
accounts, SaaS API keys).

- Every NHI has a named owner; `reporting-old` is scheduled for removal.
- `ops-automation` keeps AdministratorAccess for break-glass automation
  behind MFA; waiver CHG-2291 until 2027-01-31.
- The `ci/deployer` legacy token is to be replaced by a bound token (PLAT-812).

Signed: M. Rivera, platform security lead.
""")


if __name__ == "__main__":
    make_cloudtrail()
    make_k8s()
    make_inventories()
    make_policies()
    make_scanners()
    make_attestation()

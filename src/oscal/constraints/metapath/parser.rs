//! Metapath syntax tree and a recursive-descent parser for the part of
//! XPath 3.1 that Metaschema constraints use: paths with the child,
//! attribute, parent, self and descendant axes, predicates, unions, general
//! and value comparisons, arithmetic, `and`/`or`, `if`, `some`/`every`,
//! `let`, `for`, the simple map operator `!`, map lookups `?*`, sequences
//! and function calls.

use super::lexer::{tokenize, Token};

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Integer(i64),
    Decimal(f64),
    Var(String),
    ContextItem,
    /// The document node (a leading `/`).
    Root,
    /// `(a, b, c)`; `()` is the empty sequence.
    Sequence(Vec<Expr>),
    Step(Step),
    /// `left/right`: right evaluated once per node of left.
    Path(Box<Expr>, Box<Expr>),
    /// `left ! right`: right evaluated once per item of left.
    Map(Box<Expr>, Box<Expr>),
    /// A primary expression with predicates: `(.)[@type='x']`, `$v[1]`.
    Filter(Box<Expr>, Vec<Expr>),
    Call(String, Vec<Expr>),
    /// `?*` (`None`) or `?key` on a map.
    Lookup(Box<Expr>, Option<Box<Expr>>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Quantified {
        every: bool,
        bindings: Vec<(String, Expr)>,
        test: Box<Expr>,
    },
    Let(Vec<(String, Expr)>, Box<Expr>),
    For(Vec<(String, Expr)>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    /// General comparisons (`=`, `!=`, ...): existential over sequences.
    General(Cmp),
    /// Value comparisons (`eq`, `ne`, ...): one item each side.
    Value(Cmp),
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    IDiv,
    Mod,
    Union,
    Intersect,
    Except,
    Range,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Child,
    Attribute,
    Parent,
    SelfAxis,
    Descendant,
    DescendantOrSelf,
    Ancestor,
    AncestorOrSelf,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeTest {
    Name(String),
    /// `*` or `node()`.
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub predicates: Vec<Expr>,
}

/// Parses one Metapath expression.
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, pos: 0 };
    let expr = parser.expr()?;
    if parser.pos < parser.tokens.len() {
        return Err(format!(
            "unexpected {} after a complete expression",
            describe(&parser.tokens[parser.pos])
        ));
    }
    Ok(expr)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Name(n) => format!("`{n}`"),
        Token::Var(v) => format!("`${v}`"),
        Token::Str(s) => format!("'{s}'"),
        Token::Integer(n) => n.to_string(),
        Token::Decimal(n) => n.to_string(),
        Token::Sym(s) => format!("`{s}`"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.pos + offset)
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Some(Token::Sym(s)) if *s == sym)
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(n)) if n == name)
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if self.is_sym(sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, name: &str) -> bool {
        if self.is_name(name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), String> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{sym}`")))
        }
    }

    fn expect_name(&mut self, name: &str) -> Result<(), String> {
        if self.eat_name(name) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{name}`")))
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.peek() {
            Some(t) => format!("expected {wanted}, found {}", describe(t)),
            None => format!("expected {wanted}, found the end of the expression"),
        }
    }

    fn var_name(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Token::Var(v)) => {
                self.pos += 1;
                Ok(v)
            }
            _ => Err(self.unexpected("a `$variable`")),
        }
    }

    /// Expr := ExprSingle ("," ExprSingle)*
    fn expr(&mut self) -> Result<Expr, String> {
        let first = self.expr_single()?;
        if !self.is_sym(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_sym(",") {
            items.push(self.expr_single()?);
        }
        Ok(Expr::Sequence(items))
    }

    fn keyword_followed_by(&self, word: &str, next: &str) -> bool {
        self.is_name(word)
            && match self.peek_at(1) {
                Some(Token::Sym(s)) => *s == next,
                Some(Token::Var(_)) => next == "$",
                _ => false,
            }
    }

    fn expr_single(&mut self) -> Result<Expr, String> {
        if self.keyword_followed_by("if", "(") {
            self.pos += 2;
            let condition = self.expr()?;
            self.expect_sym(")")?;
            self.expect_name("then")?;
            let then = self.expr_single()?;
            self.expect_name("else")?;
            let otherwise = self.expr_single()?;
            return Ok(Expr::If(
                Box::new(condition),
                Box::new(then),
                Box::new(otherwise),
            ));
        }
        for every in [false, true] {
            let word = if every { "every" } else { "some" };
            if self.keyword_followed_by(word, "$") {
                self.pos += 1;
                let bindings = self.bindings("in")?;
                self.expect_name("satisfies")?;
                let test = self.expr_single()?;
                return Ok(Expr::Quantified {
                    every,
                    bindings,
                    test: Box::new(test),
                });
            }
        }
        if self.keyword_followed_by("let", "$") {
            self.pos += 1;
            let bindings = self.bindings(":=")?;
            self.expect_name("return")?;
            let body = self.expr_single()?;
            return Ok(Expr::Let(bindings, Box::new(body)));
        }
        if self.keyword_followed_by("for", "$") {
            self.pos += 1;
            let bindings = self.bindings("in")?;
            self.expect_name("return")?;
            let body = self.expr_single()?;
            return Ok(Expr::For(bindings, Box::new(body)));
        }
        self.or_expr()
    }

    /// `$a in E, $b in E` (or `:=` for let).
    fn bindings(&mut self, binder: &str) -> Result<Vec<(String, Expr)>, String> {
        let mut bindings = Vec::new();
        loop {
            let name = self.var_name()?;
            if binder == ":=" {
                self.expect_sym(":=")?;
            } else {
                self.expect_name(binder)?;
            }
            let value = self.expr_single()?;
            bindings.push((name, value));
            if !self.eat_sym(",") {
                return Ok(bindings);
            }
        }
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and_expr()?;
        while self.eat_name("or") {
            let right = self.and_expr()?;
            left = Expr::Binary(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.comparison()?;
        while self.eat_name("and") {
            let right = self.comparison()?;
            left = Expr::Binary(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.concat()?;
        let op = match self.peek() {
            Some(Token::Sym(s)) => match *s {
                "=" => Some(BinOp::General(Cmp::Eq)),
                "!=" => Some(BinOp::General(Cmp::Ne)),
                "<" => Some(BinOp::General(Cmp::Lt)),
                "<=" => Some(BinOp::General(Cmp::Le)),
                ">" => Some(BinOp::General(Cmp::Gt)),
                ">=" => Some(BinOp::General(Cmp::Ge)),
                _ => None,
            },
            Some(Token::Name(n)) => match n.as_str() {
                "eq" => Some(BinOp::Value(Cmp::Eq)),
                "ne" => Some(BinOp::Value(Cmp::Ne)),
                "lt" => Some(BinOp::Value(Cmp::Lt)),
                "le" => Some(BinOp::Value(Cmp::Le)),
                "gt" => Some(BinOp::Value(Cmp::Gt)),
                "ge" => Some(BinOp::Value(Cmp::Ge)),
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else { return Ok(left) };
        self.pos += 1;
        let right = self.concat()?;
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    fn concat(&mut self) -> Result<Expr, String> {
        let mut left = self.range()?;
        while self.eat_sym("||") {
            let right = self.range()?;
            left = Expr::Binary(BinOp::Concat, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn range(&mut self) -> Result<Expr, String> {
        let left = self.additive()?;
        if self.eat_name("to") {
            let right = self.additive()?;
            return Ok(Expr::Binary(BinOp::Range, Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, String> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+") {
                BinOp::Add
            } else if self.eat_sym("-") {
                BinOp::Sub
            } else {
                return Ok(left);
            };
            let right = self.multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        let mut left = self.union()?;
        loop {
            let op = if self.eat_sym("*") {
                BinOp::Mul
            } else if self.eat_name("div") {
                BinOp::Div
            } else if self.eat_name("idiv") {
                BinOp::IDiv
            } else if self.eat_name("mod") {
                BinOp::Mod
            } else {
                return Ok(left);
            };
            let right = self.union()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn union(&mut self) -> Result<Expr, String> {
        let mut left = self.intersect()?;
        while self.eat_sym("|") || self.eat_name("union") {
            let right = self.intersect()?;
            left = Expr::Binary(BinOp::Union, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn intersect(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_name("intersect") {
                BinOp::Intersect
            } else if self.eat_name("except") {
                BinOp::Except
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        let mut negate = false;
        loop {
            if self.eat_sym("-") {
                negate = !negate;
            } else if !self.eat_sym("+") {
                break;
            }
        }
        let expr = self.simple_map()?;
        Ok(if negate {
            Expr::Negate(Box::new(expr))
        } else {
            expr
        })
    }

    fn simple_map(&mut self) -> Result<Expr, String> {
        let mut left = self.path()?;
        while self.eat_sym("!") {
            let right = self.path()?;
            left = Expr::Map(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn path(&mut self) -> Result<Expr, String> {
        if self.eat_sym("//") {
            let rest = self.relative_path()?;
            return Ok(descendant_path(Expr::Root, rest));
        }
        if self.eat_sym("/") {
            if self.starts_step() {
                let rest = self.relative_path()?;
                return Ok(Expr::Path(Box::new(Expr::Root), Box::new(rest)));
            }
            return Ok(Expr::Root);
        }
        self.relative_path()
    }

    /// Whether the next token can begin a step (for a lone `/`).
    fn starts_step(&self) -> bool {
        match self.peek() {
            Some(Token::Name(_)) | Some(Token::Var(_)) | Some(Token::Str(_)) => true,
            Some(Token::Integer(_)) | Some(Token::Decimal(_)) => true,
            Some(Token::Sym(s)) => matches!(*s, "@" | "." | ".." | "*" | "("),
            None => false,
        }
    }

    fn relative_path(&mut self) -> Result<Expr, String> {
        let mut left = self.step_expr()?;
        loop {
            if self.eat_sym("//") {
                let right = self.step_expr()?;
                left = descendant_path(left, right);
            } else if self.eat_sym("/") {
                let right = self.step_expr()?;
                left = Expr::Path(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn step_expr(&mut self) -> Result<Expr, String> {
        // Axis steps: @name, .., axis::test, name, *
        if self.eat_sym("@") {
            let test = self.node_test()?;
            return self.axis_step(Axis::Attribute, test);
        }
        if self.eat_sym("..") {
            return self.axis_step(Axis::Parent, NodeTest::Any);
        }
        if self.is_sym("*") {
            self.pos += 1;
            return self.axis_step(Axis::Child, NodeTest::Any);
        }
        if let Some(Token::Name(name)) = self.peek().cloned() {
            if matches!(self.peek_at(1), Some(Token::Sym("::"))) {
                let axis = match name.as_str() {
                    "child" => Axis::Child,
                    "attribute" => Axis::Attribute,
                    "parent" => Axis::Parent,
                    "self" => Axis::SelfAxis,
                    "descendant" => Axis::Descendant,
                    "descendant-or-self" => Axis::DescendantOrSelf,
                    "ancestor" => Axis::Ancestor,
                    "ancestor-or-self" => Axis::AncestorOrSelf,
                    other => return Err(format!("the `{other}::` axis is not supported")),
                };
                self.pos += 2;
                let test = self.node_test()?;
                return self.axis_step(axis, test);
            }
            let is_call = matches!(self.peek_at(1), Some(Token::Sym("(")));
            if !is_call {
                self.pos += 1;
                return self.axis_step(Axis::Child, NodeTest::Name(name));
            }
            if name == "node" {
                self.pos += 1;
                self.expect_sym("(")?;
                self.expect_sym(")")?;
                return self.axis_step(Axis::Child, NodeTest::Any);
            }
        }
        self.postfix()
    }

    fn node_test(&mut self) -> Result<NodeTest, String> {
        if self.eat_sym("*") {
            return Ok(NodeTest::Any);
        }
        match self.peek().cloned() {
            Some(Token::Name(n)) => {
                self.pos += 1;
                if n == "node" && self.eat_sym("(") {
                    self.expect_sym(")")?;
                    return Ok(NodeTest::Any);
                }
                Ok(NodeTest::Name(n))
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    fn axis_step(&mut self, axis: Axis, test: NodeTest) -> Result<Expr, String> {
        let predicates = self.predicates()?;
        Ok(Expr::Step(Step {
            axis,
            test,
            predicates,
        }))
    }

    fn predicates(&mut self) -> Result<Vec<Expr>, String> {
        let mut predicates = Vec::new();
        while self.eat_sym("[") {
            predicates.push(self.expr()?);
            self.expect_sym("]")?;
        }
        Ok(predicates)
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut expr = self.primary()?;
        loop {
            if self.is_sym("[") {
                let predicates = self.predicates()?;
                expr = Expr::Filter(Box::new(expr), predicates);
            } else if self.eat_sym("?") {
                if self.eat_sym("*") {
                    expr = Expr::Lookup(Box::new(expr), None);
                } else {
                    let key = match self.peek().cloned() {
                        Some(Token::Name(n)) => {
                            self.pos += 1;
                            Expr::Str(n)
                        }
                        Some(Token::Integer(n)) => {
                            self.pos += 1;
                            Expr::Integer(n)
                        }
                        Some(Token::Sym("(")) => {
                            self.pos += 1;
                            let key = self.expr()?;
                            self.expect_sym(")")?;
                            key
                        }
                        _ => return Err(self.unexpected("a lookup key")),
                    };
                    expr = Expr::Lookup(Box::new(expr), Some(Box::new(key)));
                }
            } else {
                return Ok(expr);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.peek().cloned() {
            Some(Token::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Some(Token::Integer(n)) => {
                self.pos += 1;
                Ok(Expr::Integer(n))
            }
            Some(Token::Decimal(n)) => {
                self.pos += 1;
                Ok(Expr::Decimal(n))
            }
            Some(Token::Var(v)) => {
                self.pos += 1;
                Ok(Expr::Var(v))
            }
            Some(Token::Sym(".")) => {
                self.pos += 1;
                Ok(Expr::ContextItem)
            }
            Some(Token::Sym("(")) => {
                self.pos += 1;
                if self.eat_sym(")") {
                    return Ok(Expr::Sequence(Vec::new()));
                }
                let inner = self.expr()?;
                self.expect_sym(")")?;
                Ok(match inner {
                    // Keep a parenthesised sequence distinct from a bare one
                    // only where it matters: a single item is itself.
                    Expr::Sequence(items) => Expr::Sequence(items),
                    other => Expr::Sequence(vec![other]),
                })
            }
            Some(Token::Name(name)) if matches!(self.peek_at(1), Some(Token::Sym("("))) => {
                self.pos += 2;
                let mut args = Vec::new();
                if !self.eat_sym(")") {
                    loop {
                        args.push(self.expr_single()?);
                        if self.eat_sym(")") {
                            break;
                        }
                        self.expect_sym(",")?;
                    }
                }
                Ok(Expr::Call(name, args))
            }
            _ => Err(self.unexpected("an expression")),
        }
    }
}

/// `left//right`: `left/descendant-or-self::node()/right`. A child step
/// whose predicates cannot be positional is the same as one descendant step
/// (`//prop` ≡ `/descendant::prop`), which walks the tree once instead of
/// collecting every node and then each node's children.
fn descendant_path(left: Expr, right: Expr) -> Expr {
    // `//a/b` parses as `//(a/b)`: `/` is associative over nodes, so the
    // rewrite applies to the first step, `(//a)/b`.
    if let Expr::Path(first, rest) = right {
        return Expr::Path(Box::new(descendant_path(left, *first)), rest);
    }
    // `.//(a|b)`: each branch on its own, when the left side is as cheap to
    // evaluate twice as `.` or `/`.
    if let (Expr::ContextItem | Expr::Root, Expr::Sequence(items)) = (&left, &right) {
        if let [Expr::Binary(BinOp::Union, a, b)] = items.as_slice() {
            return Expr::Binary(
                BinOp::Union,
                Box::new(descendant_path(left.clone(), (**a).clone())),
                Box::new(descendant_path(left, (**b).clone())),
            );
        }
    }
    if let Expr::Step(step) = &right {
        if step.axis == Axis::Child && step.predicates.iter().all(never_a_number) {
            let descendant = Step {
                axis: Axis::Descendant,
                ..step.clone()
            };
            return Expr::Path(Box::new(left), Box::new(Expr::Step(descendant)));
        }
    }
    let any = Expr::Step(Step {
        axis: Axis::DescendantOrSelf,
        test: NodeTest::Any,
        predicates: Vec::new(),
    });
    Expr::Path(
        Box::new(Expr::Path(Box::new(left), Box::new(any))),
        Box::new(right),
    )
}

/// Whether a predicate always yields a boolean or nodes, never a number
/// (which would select by position and make the rewrite above wrong).
fn never_a_number(predicate: &Expr) -> bool {
    match predicate {
        Expr::Binary(op, _, _) => matches!(
            op,
            BinOp::Or | BinOp::And | BinOp::General(_) | BinOp::Value(_)
        ),
        Expr::Step(_) | Expr::Path(_, _) => true,
        Expr::Call(name, _) => matches!(
            name.as_str(),
            "not"
                | "exists"
                | "empty"
                | "boolean"
                | "starts-with"
                | "ends-with"
                | "contains"
                | "matches"
                | "has-oscal-namespace"
        ),
        _ => false,
    }
}

/// Every function an expression calls, for the static support check.
pub fn called_functions(expr: &Expr, out: &mut Vec<String>) {
    let children: Vec<&Expr> = match expr {
        Expr::Call(name, args) => {
            out.push(name.clone());
            args.iter().collect()
        }
        Expr::Sequence(items) => items.iter().collect(),
        Expr::Step(step) => step.predicates.iter().collect(),
        Expr::Path(a, b) | Expr::Map(a, b) | Expr::Binary(_, a, b) => vec![a, b],
        Expr::Filter(e, predicates) => std::iter::once(&**e).chain(predicates).collect(),
        Expr::Lookup(e, key) => std::iter::once(&**e).chain(key.as_deref()).collect(),
        Expr::Negate(e) => vec![e],
        Expr::If(a, b, c) => vec![a, b, c],
        Expr::Quantified { bindings, test, .. } => bindings
            .iter()
            .map(|(_, e)| e)
            .chain(std::iter::once(&**test))
            .collect(),
        Expr::Let(bindings, body) | Expr::For(bindings, body) => bindings
            .iter()
            .map(|(_, e)| e)
            .chain(std::iter::once(&**body))
            .collect(),
        Expr::Str(_)
        | Expr::Integer(_)
        | Expr::Decimal(_)
        | Expr::Var(_)
        | Expr::ContextItem
        | Expr::Root => Vec::new(),
    };
    for child in children {
        called_functions(child, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `//name` with predicates that cannot be positional becomes one
    /// descendant step; a numeric predicate keeps XPath's long form.
    #[test]
    fn double_slash_becomes_a_descendant_step_only_where_equivalent() {
        let step = |axis, name: &str| Step {
            axis,
            test: NodeTest::Name(name.into()),
            predicates: Vec::new(),
        };
        assert_eq!(
            parse("//inventory-item/prop").unwrap(),
            Expr::Path(
                Box::new(Expr::Path(
                    Box::new(Expr::Root),
                    Box::new(Expr::Step(step(Axis::Descendant, "inventory-item")))
                )),
                Box::new(Expr::Step(step(Axis::Child, "prop")))
            )
        );
        let Expr::Binary(BinOp::Union, a, _) = parse(".//(a|b)").unwrap() else {
            panic!("a union of two descendant paths");
        };
        assert_eq!(
            *a,
            Expr::Path(
                Box::new(Expr::ContextItem),
                Box::new(Expr::Step(step(Axis::Descendant, "a")))
            )
        );
        let positional = parse("//prop[1]").unwrap();
        let Expr::Path(left, _) = positional else {
            panic!("a path");
        };
        assert!(
            matches!(*left, Expr::Path(_, ref any) if matches!(**any, Expr::Step(Step { axis: Axis::DescendantOrSelf, .. })))
        );
    }

    #[test]
    fn parses_what_nist_writes() {
        for text in [
            "prop[has-oscal-namespace('http://csrc.nist.gov/ns/oscal') and @name='type']/@value",
            "(.)[@type=('software', 'hardware', 'service')]/prop/@name",
            "responsible-role|statement/responsible-role|.//by-component//responsible-role",
            "metadata/role|doc(import-ssp/@href)/metadata/role",
            "information-type/(confidentiality-impact|integrity-impact)/(base|selected)",
            "not(@start > @end)",
            "//(control|group|part)",
            "map:merge($all-imports/metadata/role ! map:entry(@id,.))?*",
            "if (base ne selected) then exists(adjustment-justification) else true()",
            "some $uuid in ../../component/@uuid satisfies $uuid = substring-after(@href, '#')",
            "count(/location/prop[@name eq 'type'][@value eq 'data-center']) > 1",
            ". <= current-dateTime()",
            "path(..)",
            "/",
        ] {
            parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    #[test]
    fn names_are_operators_only_in_operator_position() {
        // `and` as an element name, then as the operator.
        let e = parse("and and or").unwrap();
        assert!(matches!(e, Expr::Binary(BinOp::And, _, _)));
        let e = parse("a - b").unwrap();
        assert!(matches!(e, Expr::Binary(BinOp::Sub, _, _)));
        let e = parse("a-b").unwrap();
        assert!(matches!(e, Expr::Step(_)));
    }

    #[test]
    fn errors_say_what_was_expected() {
        assert!(parse("a[").unwrap_err().contains("expected"));
        assert!(parse("if (a) then b").unwrap_err().contains("`else`"));
        assert!(parse("following::x").unwrap_err().contains("not supported"));
    }
}

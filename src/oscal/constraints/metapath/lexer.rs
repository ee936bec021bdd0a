//! Tokens of Metapath, the XPath 3.1 subset that Metaschema constraints are
//! written in. Keywords (`and`, `eq`, `div`, ...) are lexed as names: XPath
//! makes them operators only where an operator can stand, which the parser
//! decides.

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// An NCName or a prefixed QName (`map:merge`).
    Name(String),
    /// `$name`.
    Var(String),
    Str(String),
    Integer(i64),
    Decimal(f64),
    /// Punctuation and symbolic operators: `( ) [ ] , / // @ . .. :: = != < <= > >= | || ! ? * + - :=`.
    Sym(&'static str),
}

/// Splits an expression into tokens; the error names the offending offset.
pub fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // XPath comments: (: ... :)
        if c == '(' && chars.get(i + 1) == Some(&':') {
            let mut depth = 1;
            i += 2;
            while i < chars.len() && depth > 0 {
                if chars[i] == '(' && chars.get(i + 1) == Some(&':') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == ':' && chars.get(i + 1) == Some(&')') {
                    depth -= 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            continue;
        }
        if c == '\'' || c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated string literal at offset {i}")),
                    // A doubled quote is the quote itself.
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        value.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            tokens.push(Token::Str(value));
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let mut is_double = false;
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                is_double = true;
                i += 1;
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let literal: String = chars[start..i].iter().collect();
            if !is_double && !literal.contains('.') {
                let n = literal
                    .parse::<i64>()
                    .map_err(|_| format!("integer `{literal}` is out of range"))?;
                tokens.push(Token::Integer(n));
            } else {
                let n = literal
                    .parse::<f64>()
                    .map_err(|_| format!("`{literal}` is not a number"))?;
                tokens.push(Token::Decimal(n));
            }
            continue;
        }
        if c == '$' {
            i += 1;
            let start = i;
            i = scan_name(&chars, i);
            if i == start {
                return Err(format!("`$` without a variable name at offset {start}"));
            }
            tokens.push(Token::Var(chars[start..i].iter().collect()));
            continue;
        }
        if is_name_start(c) {
            let start = i;
            i = scan_name(&chars, i);
            tokens.push(Token::Name(chars[start..i].iter().collect()));
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (sym, len): (&'static str, usize) = match (c, next) {
            ('/', Some('/')) => ("//", 2),
            ('.', Some('.')) => ("..", 2),
            (':', Some(':')) => ("::", 2),
            (':', Some('=')) => (":=", 2),
            ('!', Some('=')) => ("!=", 2),
            ('<', Some('=')) => ("<=", 2),
            ('>', Some('=')) => (">=", 2),
            ('|', Some('|')) => ("||", 2),
            ('(', _) => ("(", 1),
            (')', _) => (")", 1),
            ('[', _) => ("[", 1),
            (']', _) => ("]", 1),
            (',', _) => (",", 1),
            ('/', _) => ("/", 1),
            ('@', _) => ("@", 1),
            ('.', _) => (".", 1),
            ('=', _) => ("=", 1),
            ('<', _) => ("<", 1),
            ('>', _) => (">", 1),
            ('|', _) => ("|", 1),
            ('!', _) => ("!", 1),
            ('?', _) => ("?", 1),
            ('*', _) => ("*", 1),
            ('+', _) => ("+", 1),
            ('-', _) => ("-", 1),
            _ => return Err(format!("unexpected character `{c}` at offset {i}")),
        };
        tokens.push(Token::Sym(sym));
        i += len;
    }
    Ok(tokens)
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// The end of a name starting at `i`: NCName characters, and one `prefix:`
/// when a name character follows the colon (`map:merge`, not `child::x`).
fn scan_name(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && is_name_char(chars[i]) {
        i += 1;
    }
    if i + 1 < chars.len() && chars[i] == ':' && is_name_start(chars[i + 1]) {
        i += 1;
        while i < chars.len() && is_name_char(chars[i]) {
            i += 1;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_hyphens_prefixes_and_axes() {
        let t = tokenize("child::responsible-party[@role-id='x']/map:merge(.)").unwrap();
        assert_eq!(t[0], Token::Name("child".into()));
        assert_eq!(t[1], Token::Sym("::"));
        assert_eq!(t[2], Token::Name("responsible-party".into()));
        assert!(t.contains(&Token::Name("map:merge".into())));
        assert!(t.contains(&Token::Str("x".into())));
    }

    #[test]
    fn numbers_strings_comments() {
        let t = tokenize("1 + 2.5 (: note :) 'it''s' ..").unwrap();
        assert_eq!(
            t,
            vec![
                Token::Integer(1),
                Token::Sym("+"),
                Token::Decimal(2.5),
                Token::Str("it's".into()),
                Token::Sym(".."),
            ]
        );
        assert!(tokenize("'open").is_err());
        assert!(tokenize("a # b").is_err());
    }
}

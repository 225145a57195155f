//! The subset of SCIM filters (RFC 7644) the users and groups endpoints accept:
//! `attr eq "value"` and `attr co "value"`, combined with `and` / `or` and parentheses.
//!
//! Keywords and operators are case-insensitive. String values are double-quoted; inside them
//! `\"` is a quote and `\\` a backslash. `and` binds tighter than `or`.

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    Cmp { attr: String, op: Op, value: String },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Co,
}

impl Filter {
    /// Evaluate against a resource; `get` returns an attribute's value (None when absent), and
    /// `fold` says whether comparisons on that attribute ignore (ASCII) case.
    pub(crate) fn matches<'a>(
        &self,
        get: &dyn Fn(&str) -> Option<&'a str>,
        fold: &dyn Fn(&str) -> bool,
    ) -> bool {
        match self {
            Filter::And(a, b) => a.matches(get, fold) && b.matches(get, fold),
            Filter::Or(a, b) => a.matches(get, fold) || b.matches(get, fold),
            Filter::Cmp { attr, op, value } => {
                let Some(actual) = get(attr) else { return false };
                match (op, fold(attr)) {
                    (Op::Eq, true) => actual.eq_ignore_ascii_case(value),
                    (Op::Eq, false) => actual == value,
                    (Op::Co, true) => actual.to_ascii_lowercase().contains(&value.to_ascii_lowercase()),
                    (Op::Co, false) => actual.contains(value.as_str()),
                }
            }
        }
    }

    /// When the filter is only `eq` comparisons joined by `or` (the common lookup), those
    /// comparisons, so the caller can answer from an index instead of scanning.
    pub(crate) fn or_of_eq(&self) -> Option<Vec<(&str, &str)>> {
        match self {
            Filter::Cmp {
                attr,
                op: Op::Eq,
                value,
            } => Some(vec![(attr.as_str(), value.as_str())]),
            Filter::Cmp { .. } | Filter::And(..) => None,
            Filter::Or(a, b) => {
                let mut v = a.or_of_eq()?;
                v.extend(b.or_of_eq()?);
                Some(v)
            }
        }
    }

    /// Every attribute and operator used, to reject what the endpoint does not support.
    pub(crate) fn comparisons(&self) -> Vec<(&str, Op)> {
        match self {
            Filter::Cmp { attr, op, .. } => vec![(attr.as_str(), *op)],
            Filter::And(a, b) | Filter::Or(a, b) => {
                let mut v = a.comparisons();
                v.extend(b.comparisons());
                v
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".to_owned()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => s.push(e),
                            Some(other) => return Err(format!("invalid escape \\{other}")),
                            None => return Err("unterminated string".to_owned()),
                        },
                        Some(other) => s.push(other),
                    }
                }
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(w));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.term()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.term()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Filter, String> {
        match self.tokens.get(self.pos).cloned() {
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.or()?;
                if self.tokens.get(self.pos) != Some(&Token::Close) {
                    return Err("missing )".to_owned());
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Word(attr)) => {
                self.pos += 1;
                let op = match self.tokens.get(self.pos) {
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("eq") => Op::Eq,
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("co") => Op::Co,
                    Some(Token::Word(w)) => return Err(format!("unsupported operator {w}")),
                    _ => return Err(format!("expected an operator after {attr}")),
                };
                self.pos += 1;
                let value = match self.tokens.get(self.pos) {
                    Some(Token::Str(s)) => s.clone(),
                    _ => return Err(format!("expected a quoted value after {attr}")),
                };
                self.pos += 1;
                Ok(Filter::Cmp { attr, op, value })
            }
            Some(other) => Err(format!("unexpected {other:?}")),
            None => Err("unexpected end of filter".to_owned()),
        }
    }
}

/// Parse a filter expression, or say what is wrong with it.
pub(crate) fn parse(input: &str) -> Result<Filter, String> {
    let tokens = tokenize(input)?;
    let mut parser = Parser { tokens, pos: 0 };
    let filter = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err("unexpected text after the filter".to_owned());
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(attr: &str, value: &str) -> Filter {
        Filter::Cmp {
            attr: attr.to_owned(),
            op: Op::Eq,
            value: value.to_owned(),
        }
    }

    #[test]
    fn parses_or_chains_and_escapes() {
        let f = parse(r#"email eq "a@x.com" OR subject Eq "say \"hi\" \\ ok""#).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(eq("email", "a@x.com")),
                Box::new(eq("subject", r#"say "hi" \ ok"#))
            )
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let f = parse(r#"id eq "1" or id eq "2" and status eq "active""#).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(eq("id", "1")),
                Box::new(Filter::And(
                    Box::new(eq("id", "2")),
                    Box::new(eq("status", "active"))
                ))
            )
        );
        let g = parse(r#"(id eq "1" or id eq "2") and status eq "active""#).unwrap();
        assert!(matches!(g, Filter::And(..)));
    }

    #[test]
    fn or_of_eq_finds_index_lookups_only() {
        let f = parse(r#"email eq "a" or (subject eq "b" or id eq "c")"#).unwrap();
        assert_eq!(
            f.or_of_eq(),
            Some(vec![("email", "a"), ("subject", "b"), ("id", "c")])
        );
        assert_eq!(parse(r#"email eq "a" and id eq "c""#).unwrap().or_of_eq(), None);
        assert_eq!(parse(r#"email co "a" or id eq "c""#).unwrap().or_of_eq(), None);
    }

    #[test]
    fn matching_folds_case_only_where_asked() {
        let f = parse(r#"email eq "A@X.COM" and name co "ada""#).unwrap();
        let get = |attr: &str| match attr {
            "email" => Some("a@x.com"),
            "name" => Some("Ada Admin"),
            _ => None,
        };
        assert!(!f.matches(&get, &|attr| attr == "email"));
        assert!(f.matches(&get, &|_| true));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "email",
            "email eq",
            "email eq a@x.com",
            r#"email gt "x""#,
            r#"email eq "x"#,
            r#"(email eq "x""#,
            r#"email eq "x" or"#,
            r#"email eq "x" extra"#,
            r#"email eq "bad \n escape""#,
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}

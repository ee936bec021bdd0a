//! Metapath: the XPath 3.1 subset Metaschema constraints are written in.

pub mod eval;
pub mod lexer;
pub mod parser;

pub use parser::{called_functions, parse, Expr};

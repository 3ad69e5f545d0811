//! Reading YAML with positions: a fast whole-input scan that finds objects without keeping
//! them ([`scan`]), a positioned syntax tree of one object ([`tree`]), and what a tree means
//! ([`value`]). Built on saphyr's event parser, which reports where every node is.

pub mod matches;
pub mod offsets;
pub mod scan;
pub mod tree;
pub mod value;

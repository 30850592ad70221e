//! Render-prep benchmark: window/level of one 512² slice (stub).
fn main() {}

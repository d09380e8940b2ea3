//! Semantic diff (in progress).
use super::model::Policy;
#[derive(serde::Serialize)]
pub struct Change {}
pub fn diff(_a: &Policy, _b: &Policy) -> Vec<Change> {
    vec![]
}
pub fn render(_c: &[Change]) -> String {
    String::new()
}

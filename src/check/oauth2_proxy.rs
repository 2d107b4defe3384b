//! placeholder
use super::Ctx;
pub(crate) fn check(_ctx: &mut Ctx) {}

// An observed function nobody calls is still dead code: `#[observe]` keeps the function's
// own span, so `dead_code` (and `#[expect(dead_code)]`) see it as they see a plain function.
#![deny(dead_code)]

use observe::observe;

#[observe]
fn never_called() {}

#[observe(metric = "db_event")]
async fn never_awaited() {}

struct Store;

#[observe]
impl Store {
    fn never_used(&self) {}
}

#[expect(dead_code)]
#[observe]
fn expected_to_be_unused() {}

fn main() {
    let _ = Store;
}

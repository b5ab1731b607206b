use observe::observe;

#[observe(skip_all, skip(user))]
fn login(user: &str) {
    let _ = user;
}

fn main() {}

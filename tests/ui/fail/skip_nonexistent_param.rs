use observe::observe;

#[observe(skip(password))]
fn login(user: &str, secret: &str) {
    let _ = (user, secret);
}

fn main() {}

//! Arguments whose type does not implement `Debug` are left out of the span instead of
//! failing the build: `self` of such a type (by reference, mutable reference, value, and
//! in an `async fn` and an `#[async_trait]` method), a generic `T` without a `Debug` bound, `impl Trait` arguments, and a
//! non-`Debug` struct next to a `Debug` one (which is still recorded).
use observe::observe;

/// Not `Debug`.
pub struct Pool {
    size: usize,
}

/// Not `Debug`.
#[derive(Clone)]
pub struct Conn(u32);

#[derive(Debug)]
pub struct Query(&'static str);

impl Pool {
    #[observe(err)]
    pub fn get(&self, query: &Query, conn: &Conn) -> Result<usize, String> {
        Ok(self.size + query.0.len() + conn.0 as usize)
    }

    #[observe]
    pub fn grow(&mut self, by: usize) {
        self.size += by;
    }

    #[observe(ret)]
    pub fn close(self) -> usize {
        self.size
    }

    #[observe]
    pub async fn ping(&self, conn: Conn) -> u32 {
        conn.0
    }
}

#[async_trait::async_trait]
pub trait Store {
    async fn load(&self, key: &str) -> Result<usize, String>;
}

#[async_trait::async_trait]
impl Store for Pool {
    #[observe(err)]
    async fn load(&self, key: &str) -> Result<usize, String> {
        Ok(self.size + key.len())
    }
}

#[observe]
pub fn first<T: Clone>(items: &[T]) -> Option<T> {
    items.first().cloned()
}

#[observe]
pub fn pair<T, U: std::fmt::Debug>(left: T, right: U) -> (T, U) {
    (left, right)
}

#[observe]
pub fn call(f: impl Fn() -> u8, shown: impl std::fmt::Debug) -> u8 {
    let _ = shown;
    f()
}

#[observe]
pub fn destructured(Conn(id): Conn, (conn, query): (Conn, Query)) -> u32 {
    id + conn.0 + query.0.len() as u32
}

fn main() {
    let mut pool = Pool { size: 1 };
    pool.get(&Query("q"), &Conn(2)).unwrap();
    pool.grow(1);
    drop(pool.ping(Conn(3)));
    drop(pool.load("k"));
    pool.close();
    first(&[Conn(1)]);
    pair(Conn(1), Query("q"));
    call(|| 1, Query("q"));
    destructured(Conn(1), (Conn(2), Query("q")));
}

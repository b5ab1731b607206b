use observe::observe;

#[derive(Debug)]
pub struct Db {
    table: String,
}

// An inherent impl: every function with a body, the block's options merged with each
// method's own.
#[observe(metric = "db", labels(table = self.table.as_str()), skip(self), err)]
impl Db {
    pub const KIND: &'static str = "sql";

    pub fn get(&self, key: &str) -> Result<u32, String> {
        u32::try_from(key.len()).map_err(|e| e.to_string())
    }

    #[observe(labels(table = "override", op = "put"), level = "debug")]
    pub fn put(&mut self, key: &str) -> Result<(), String> {
        self.table.push_str(key);
        Ok(())
    }

    // No `self`: its own `table` replaces the block's `self.table`.
    #[observe(labels(table = "none"))]
    pub fn open(name: &str) -> Self {
        Db { table: name.into() }
    }

    #[observe(ignore)]
    pub fn table(&self) -> &str {
        &self.table
    }

    // Left alone: nothing can be observed during const evaluation.
    pub const fn version() -> u32 {
        1
    }

    // The block's `err` is left out: `len` cannot return `Err`.
    pub fn len(&self) -> usize {
        self.table.len()
    }
}

pub trait Cache<K> {
    type Item;
    fn lookup(&self, key: &K) -> Option<Self::Item>;
}

// A generic trait impl, with an associated type.
#[observe(track_concurrency, objective(name = "cache", success = 99.0))]
impl<K: std::fmt::Debug> Cache<K> for Db {
    type Item = u32;

    fn lookup(&self, _key: &K) -> Option<u32> {
        None
    }
}

#[async_trait::async_trait]
pub trait Store {
    async fn load(&self, id: u32) -> Result<u32, String>;
    async fn ping(&self);
}

pub struct Above;
pub struct Below;

// `#[observe]` above `#[async_trait]`: each `async fn` is instrumented, then boxed. The
// block's `ok_if` is moot for `ping`, which cannot return `Err`.
#[observe(ok_if = |r| r.as_ref().is_err_and(|e| e.is_empty()))]
#[async_trait::async_trait]
impl Store for Above {
    async fn load(&self, id: u32) -> Result<u32, String> {
        if id == 0 {
            return Err(String::new());
        }
        Ok(id)
    }

    async fn ping(&self) {}
}

// `#[observe]` below `#[async_trait]`: each boxed `async move` block is instrumented.
#[async_trait::async_trait]
#[observe(err)]
impl Store for Below {
    #[observe::observe(metric = "below_load")]
    async fn load(&self, id: u32) -> Result<u32, String> {
        Ok(id)
    }

    async fn ping(&self) {}
}

// `async fn` in a trait, natively.
pub trait Native {
    async fn run(&self) -> u32;
}

#[observe]
impl Native for Above {
    async fn run(&self) -> u32 {
        1
    }
}

/// # Safety
/// None needed: a test of `unsafe impl`.
pub unsafe trait Marker {
    fn mark(&self) -> u32;
}

#[observe]
unsafe impl Marker for Below {
    fn mark(&self) -> u32 {
        2
    }
}

// Braces in the header, and a macro among the members (left alone).
pub struct Arr<const N: usize>;

macro_rules! getter {
    ($name:ident) => {
        pub fn $name(&self) -> u32 {
            0
        }
    };
}

#[observe(skip_all)]
impl Arr<{ 1 + 2 }> {
    getter!(zero);

    pub fn n(&self) -> usize {
        3
    }
}

fn main() {
    let mut db = Db::open("events");
    let _ = db.get("k");
    let _ = db.put("k");
    let _ = (db.table(), Db::version(), db.len(), Db::KIND);
    let _ = Cache::<u8>::lookup(&db, &1);
    let _ = (Below.mark(), Arr::<3>.n(), Arr::<3>.zero());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let _ = Above.load(0).await;
        Above.ping().await;
        let _ = Below.load(1).await;
        Below.ping().await;
        let _ = Above.run().await;
        let store: &dyn Store = &Above;
        let _ = store.load(3).await;
    });
}

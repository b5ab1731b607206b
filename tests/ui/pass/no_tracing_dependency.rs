// A crate that uses #[observe] and observe_async! without depending on `tracing`: the
// expansion names everything through `::observe::__private`. `tracing` is visible to the
// trybuild crate (a dependency of `observe`), so shadow it: any `::tracing::..` or
// `tracing::..` path in the expansion would now fail to resolve.
extern crate self as tracing;

use observe::{observe, observe_async};

#[derive(Debug)]
struct Failure;

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

#[derive(Debug)]
struct Point {
    x: i32,
}

#[derive(Debug)]
struct Repo {
    table: &'static str,
}

impl Repo {
    #[observe(
        name = "repo.save",
        target = "repo",
        level = "debug",
        skip(blob),
        fields(size = blob.len(), %shown = 1, ?dbg = self.table, empty),
        err(Debug, level = "warn"),
        ret(Display),
        parent = None,
        metric = "repo_save",
        labels(table = self.table, kind = %"k", dbg = ?1),
        otel_kind = "client"
    )]
    fn save(&self, blob: &[u8], Point { x }: Point) -> Result<i32, Failure> {
        if blob.is_empty() {
            return Err(Failure);
        }
        Ok(x)
    }

    #[observe(skip_all, ret)]
    fn plain(&mut self) -> usize {
        self.table.len()
    }

    #[observe(err)]
    async fn fetch(&self, key: &str) -> Result<usize, Failure> {
        let n = key.len();
        if n == 0 { Err(Failure) } else { Ok(n) }
    }
}

#[async_trait::async_trait]
trait Store {
    async fn get(&self, key: &str) -> Result<u32, Failure>;
}

#[async_trait::async_trait]
impl Store for Repo {
    #[observe(err, ret)]
    async fn get(&self, key: &str) -> Result<u32, Failure> {
        let n: u32 = key.len().try_into().map_err(|_| Failure)?;
        Ok(n)
    }
}

fn main() {
    let mut repo = Repo { table: "t" };
    let _ = repo.save(b"x", Point { x: 1 });
    let _ = repo.plain();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let _ = repo.fetch("k").await;
        let _ = repo.get("k").await;
        let _ = observe_async!("task", async { 1 }, metric = "task", labels(q = "a")).await;
    });
}

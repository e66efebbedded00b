//! The spool: every batch is written here before it is sent and deleted only after the server
//! has stored it, so a crash, a restart or an outage loses nothing that fits in the spool.

use anyhow::Context;
use std::path::{Path, PathBuf};

pub struct Spool {
    dir: PathBuf,
    rejected: PathBuf,
    max_bytes: u64,
}

pub enum Written {
    Spooled,
    /// The spool holds `max_bytes` already; the batch was dropped.
    Full,
}

impl Spool {
    pub fn open(dir: &Path, max_bytes: u64) -> anyhow::Result<Spool> {
        let rejected = dir.join("rejected");
        std::fs::create_dir_all(&rejected)
            .with_context(|| format!("cannot create the spool at {}", dir.display()))?;
        Ok(Spool {
            dir: dir.to_owned(),
            rejected,
            max_bytes,
        })
    }

    /// Batches waiting to be sent, oldest first (names start with a zero-padded timestamp).
    pub fn pending(&self) -> anyhow::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .with_context(|| format!("cannot read the spool at {}", self.dir.display()))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// What the spool holds on disk: batches waiting, and the refused ones kept aside with their
    /// answers, which count against the same limit until someone looks at them.
    pub fn bytes(&self) -> u64 {
        let size = |dir: &Path| -> u64 {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter_map(|entry| entry.metadata().ok())
                        .filter(std::fs::Metadata::is_file)
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0)
        };
        size(&self.dir) + size(&self.rejected)
    }

    /// Writes a batch durably (write, fsync, rename), unless the spool is full.
    pub fn write(&self, millis: i64, batch_id: &str, body: &[u8]) -> anyhow::Result<Written> {
        if self.bytes() + body.len() as u64 > self.max_bytes {
            return Ok(Written::Full);
        }
        let name = format!("{millis:020}-{batch_id}.json");
        let temporary = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(name);
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary)
                .with_context(|| format!("cannot write to the spool at {}", self.dir.display()))?;
            file.write_all(body)?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, &path)?;
        Ok(Written::Spooled)
    }

    pub fn remove(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::remove_file(path).with_context(|| format!("cannot delete {}", path.display()))
    }

    /// Keeps a batch the server refused, with its answer, out of the way of the others.
    pub fn reject(&self, path: &Path, answer: &str) -> anyhow::Result<PathBuf> {
        let name = path.file_name().context("a spool file has a name")?;
        let target = self.rejected.join(name);
        std::fs::rename(path, &target)?;
        std::fs::write(target.with_extension("answer.txt"), answer)?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "pareto-agent-spool-{name}-{}",
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[test]
    fn batches_come_back_oldest_first_and_leave_when_removed() {
        let dir = scratch("order");
        let spool = Spool::open(&dir, 1 << 20).expect("spool");
        spool.write(2_000, "b", b"{}").expect("write");
        spool.write(1_000, "a", b"{}").expect("write");
        let pending = spool.pending().expect("pending");
        assert_eq!(pending.len(), 2);
        assert!(pending[0].to_string_lossy().ends_with("-a.json"));
        spool.remove(&pending[0]).expect("remove");
        assert_eq!(spool.pending().expect("pending").len(), 1);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_full_spool_refuses_new_batches() {
        let dir = scratch("full");
        let spool = Spool::open(&dir, 10).expect("spool");
        assert!(matches!(
            spool.write(1, "a", b"12345678").expect("write"),
            Written::Spooled
        ));
        assert!(matches!(
            spool.write(2, "b", b"12345678").expect("write"),
            Written::Full
        ));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn refused_batches_count_against_the_limit() {
        let dir = scratch("full-of-refused");
        let spool = Spool::open(&dir, 40).expect("spool");
        spool.write(1, "a", b"0123456789").expect("write");
        let path = spool.pending().expect("pending").remove(0);
        spool
            .reject(&path, "422: samples[0].requests: must be at most 10000000")
            .expect("reject");
        assert!(spool.pending().expect("pending").is_empty());
        assert!(matches!(
            spool.write(2, "b", b"0123456789").expect("write"),
            Written::Full
        ));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn rejected_batches_keep_the_answer() {
        let dir = scratch("reject");
        let spool = Spool::open(&dir, 1 << 20).expect("spool");
        spool.write(1, "a", b"{}").expect("write");
        let path = spool.pending().expect("pending").remove(0);
        let kept = spool
            .reject(&path, "422: samples[0].ts: required")
            .expect("reject");
        assert!(spool.pending().expect("pending").is_empty());
        let answer = std::fs::read_to_string(kept.with_extension("answer.txt")).expect("answer");
        assert!(answer.contains("samples[0].ts"));
        std::fs::remove_dir_all(dir).ok();
    }
}

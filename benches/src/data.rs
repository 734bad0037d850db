//! Deterministic records and workload inputs.

use crate::schema::{User, UserEmailSecondaryKey, UserSecondaryKeys};
use crate::{BATCH, RANGE_WIDTH, RANGES};

/// The user with primary key `id`: `user_00000042` / `user_00000042@example.com`.
pub fn user(id: u64) -> User {
    User {
        id,
        username: format!("user_{id:08}"),
        email: email(id, 0),
    }
}

/// The email of user `id` after `generation` email changes.
pub fn email(id: u64, generation: u64) -> String {
    if generation == 0 {
        format!("user_{id:08}@example.com")
    } else {
        format!("user_{id:08}.{generation}@example.com")
    }
}

/// A small deterministic generator (SplitMix64), so every subject sees the same order.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`; the tiny modulo bias does not matter here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Shuffles `items` (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// `k` distinct ids in `0..n`, in random order.
    pub fn distinct(&mut self, n: usize, k: usize) -> Vec<u64> {
        let mut ids: Vec<u64> = (0..n as u64).collect();
        self.shuffle(&mut ids);
        ids.truncate(k.min(n));
        ids
    }
}

/// Everything a store of `n` users is benchmarked with, built once, outside the timings.
pub struct Inputs {
    /// The store size.
    pub n: usize,
    /// Users `0..n`, in id order.
    pub users: Vec<User>,
    /// Every id, shuffled.
    pub get_ids: Vec<u64>,
    /// Every email as a typed secondary key, shuffled.
    pub email_keys: Vec<UserSecondaryKeys>,
    /// The same emails as strings, in the same order.
    pub emails: Vec<String>,
    /// Starts of the [`RANGES`] range scans.
    pub range_starts: Vec<u64>,
    /// The [`BATCH`] ids of `get_many`.
    pub many_ids: Vec<u64>,
}

impl Inputs {
    /// The inputs for a store of `n` users (`n >= RANGE_WIDTH`).
    pub fn new(n: usize) -> Inputs {
        assert!(
            n as u64 >= RANGE_WIDTH,
            "stores hold at least {RANGE_WIDTH} users"
        );
        let mut rng = Rng::new(0x5EED_0000 ^ n as u64);
        let users: Vec<User> = (0..n as u64).map(user).collect();
        let mut get_ids: Vec<u64> = (0..n as u64).collect();
        rng.shuffle(&mut get_ids);
        let mut email_ids: Vec<u64> = (0..n as u64).collect();
        rng.shuffle(&mut email_ids);
        let emails: Vec<String> = email_ids.iter().map(|&id| email(id, 0)).collect();
        let email_keys = emails
            .iter()
            .map(|e| UserSecondaryKeys::Email(UserEmailSecondaryKey(e.clone())))
            .collect();
        let span = n as u64 - RANGE_WIDTH + 1;
        let range_starts = (0..RANGES).map(|_| rng.below(span)).collect();
        let many_ids = rng.distinct(n, BATCH);
        Inputs {
            n,
            users,
            get_ids,
            email_keys,
            emails,
            range_starts,
            many_ids,
        }
    }
}

/// Batches of the write workloads, each drawn from a generator so successive iterations
/// touch different records.
pub struct Batches {
    n: usize,
    rng: Rng,
    generation: u64,
}

impl Batches {
    /// Batches over a store of `n` users.
    pub fn new(n: usize) -> Batches {
        Batches {
            n,
            rng: Rng::new(0xBA7C_0000 ^ n as u64),
            generation: 0,
        }
    }

    /// `put_loop`: [`BATCH`] random users with a new username and their original email.
    pub fn renamed(&mut self) -> Vec<User> {
        self.generation += 1;
        let g = self.generation;
        self.rng
            .distinct(self.n, BATCH)
            .into_iter()
            .map(|id| User {
                username: format!("user_{id:08}_v{g}"),
                ..user(id)
            })
            .collect()
    }

    /// `update_email`: [`BATCH`] random users with an email never used before.
    pub fn re_emailed(&mut self) -> Vec<User> {
        self.generation += 1;
        let g = self.generation;
        self.rng
            .distinct(self.n, BATCH)
            .into_iter()
            .map(|id| User {
                email: email(id, g),
                ..user(id)
            })
            .collect()
    }

    /// `remove`: [`BATCH`] random ids.
    pub fn ids(&mut self) -> Vec<u64> {
        self.rng.distinct(self.n, BATCH)
    }
}

//! The kit's deterministic random data.

/// A small deterministic PRNG (xorshift64*), so every run checks the same data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A key over a small alphabet (so keys share prefixes often) that includes 0x00 and 0xFF.
    pub(crate) fn key(&mut self) -> Vec<u8> {
        const ALPHABET: [u8; 8] = [0x00, 0x01, b'a', b'b', 0x7F, 0x80, 0xFE, 0xFF];
        let len = match self.below(20) {
            0 => 0,
            1 => 40 + self.below(400),
            _ => 1 + self.below(7),
        };
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }

    /// A value that, with a key of `key_len` bytes, fits in an entry of `limit` bytes.
    pub(crate) fn value(&mut self, key_len: usize, limit: usize) -> Vec<u8> {
        let len = match self.below(10) {
            0 => 0,
            1 => 200 + self.below(3000),
            _ => 1 + self.below(40),
        };
        let len = len.min(limit.saturating_sub(key_len));
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

//! Mocks: the immutable definition, its pre-rendered response bytes, and its live hit counter.
//!
//! A `Mock` never changes after creation except for its hit counter and its `removed` flag, so the
//! serving path reads it without locks. Hits are counted in per-worker stripes, each on its own
//! cache line, and summed when read: a mock hit from every core at once costs each core an
//! uncontended increment instead of a cache line ping-ponging between them.

pub mod cache;
pub mod id;
pub mod rates;
pub mod store;
pub mod table;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::api::model::MockView;
use crate::api::render::Rendered;
use crate::api::validate::MockSpec;
use id::MockId;
use rates::RateRing;

/// Who owns a mock: a fingerprint of the API key that created it. Stable across restarts and key
/// list reorderings; never the key itself, so a dump of mocks leaks no credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Owner(pub u64);

impl Owner {
    /// The fingerprint of `key` (SipHash with fixed keys: deterministic across runs).
    pub fn of_key(key: &[u8]) -> Owner {
        use std::hash::{Hash, Hasher};
        #[allow(deprecated)]
        let mut h =
            std::hash::SipHasher::new_with_keys(0x6d6f_636b_6400_0001, 0x6f77_6e65_7200_0002);
        key.hash(&mut h);
        Owner(h.finish())
    }
}

/// The content type a mock gets when none is given.
const DEFAULT_CONTENT_TYPE: &str = "application/json";

const FLAG_CUSTOM_HEADERS: u8 = 1;
const FLAG_BODY: u8 = 2;
/// Clear for 1xx, 204, 205 and 304: the body is never sent.
const FLAG_SENDS_BODY: u8 = 4;

/// The rarely set parts of a mock, boxed together.
struct Extras {
    name: Option<Box<str>>,
    /// `None` for the default content type.
    content_type: Option<Box<str>>,
}

impl Extras {
    fn of(name: Option<String>, content_type: String) -> Option<Box<Extras>> {
        let content_type =
            (content_type != DEFAULT_CONTENT_TYPE).then(|| content_type.into_boxed_str());
        if name.is_none() && content_type.is_none() {
            return None;
        }
        Some(Box::new(Extras {
            name: name.map(String::into_boxed_str),
            content_type,
        }))
    }
}

/// A counter on its own cache line (64 bytes on x86-64 and most ARM cores).
#[repr(align(64))]
#[derive(Default)]
pub struct Stripe(AtomicU64);

/// Most stripes a hit counter gets. Workers beyond this share stripes (worker index modulo), which
/// keeps a mock's counter at 1 KiB at most however many cores the machine has.
pub const MAX_STRIPES: usize = 16;

/// A stored mock.
pub struct Mock {
    pub id: MockId,
    pub owner: Owner,
    /// Name and a non-default content type: absent for most mocks, so they cost 8 bytes.
    extras: Option<Box<Extras>>,
    pub status_code: u16,
    /// At most 30,000 (validated), so a u16.
    pub delay_ms: u16,
    /// `FLAG_*` bits: custom headers, a body, whether the body is sent.
    flags: u8,
    pub created_at_ms: u64,
    /// Lifetime; `expires_at_ms()` is `created_at_ms + ttl_ms` (at most 48 h fits in a u32).
    ttl_ms: u32,
    /// Status line and headers (ending in CRLF; no Date, no blank line), then the body.
    response: Box<[u8]>,
    head_len: u32,

    /// The hit counter of a single-worker server: nothing else writes near it.
    hits_solo: AtomicU64,
    /// With several workers, one stripe per worker on its own cache line (empty with one worker,
    /// which keeps a small mock small).
    hits: Box<[Stripe]>,
    /// Set once when the mock is deleted or expires; serving checks it before every hit.
    removed: AtomicBool,
    /// The expiry timer's key (`wheel::Key::to_u64`), for removal on delete.
    pub(crate) expiry_key: AtomicU64,
    /// Hit since the rate sampler last looked: the first hit of each second queues the mock for
    /// sampling, later ones only read this flag.
    touched: AtomicBool,
    /// Per-second hit history; allocated on the first sampled hit.
    pub(crate) rates: Mutex<Option<Box<RateRing>>>,
}

impl Mock {
    /// Builds a mock from a validated spec and its rendered response.
    pub fn new(
        id: MockId,
        owner: Owner,
        spec: MockSpec,
        rendered: Rendered,
        created_at_ms: u64,
        stripes: usize,
    ) -> Mock {
        let has_custom_headers = spec.has_custom_headers();
        let has_body = spec.has_body();
        let mut response = rendered.head;
        let head_len = response.len() as u32;
        response.extend_from_slice(&rendered.body);
        let stripes = stripes
            .clamp(1, MAX_STRIPES)
            .next_power_of_two()
            .min(MAX_STRIPES);
        Mock {
            id,
            owner,
            extras: Extras::of(spec.name, spec.content_type),
            status_code: spec.status_code,
            delay_ms: u16::try_from(spec.delay_ms).unwrap_or(u16::MAX),
            flags: (u8::from(has_custom_headers) * FLAG_CUSTOM_HEADERS)
                | (u8::from(has_body) * FLAG_BODY)
                | (u8::from(rendered.sends_body) * FLAG_SENDS_BODY),
            created_at_ms,
            ttl_ms: spec.ttl_seconds.saturating_mul(1000),
            response: response.into_boxed_slice(),
            head_len,
            hits_solo: AtomicU64::new(0),
            hits: if stripes > 1 {
                (0..stripes).map(|_| Stripe::default()).collect()
            } else {
                Box::default()
            },
            removed: AtomicBool::new(false),
            expiry_key: AtomicU64::new(u64::MAX),
            touched: AtomicBool::new(false),
            rates: Mutex::new(None),
        }
    }

    /// The mock's name.
    pub fn name(&self) -> Option<&str> {
        self.extras.as_ref().and_then(|e| e.name.as_deref())
    }

    /// The configured content type.
    pub fn content_type(&self) -> &str {
        self.extras
            .as_ref()
            .and_then(|e| e.content_type.as_deref())
            .unwrap_or(DEFAULT_CONTENT_TYPE)
    }

    /// When the mock stops serving (unix ms).
    #[inline]
    pub fn expires_at_ms(&self) -> u64 {
        self.created_at_ms + u64::from(self.ttl_ms)
    }

    /// Sets the lifetime from its creation (the store scales TTLs for soak runs).
    pub(crate) fn set_ttl_ms(&mut self, ttl_ms: u64) {
        self.ttl_ms = u32::try_from(ttl_ms).unwrap_or(u32::MAX);
    }

    /// Status line and headers.
    #[inline]
    pub fn head(&self) -> &[u8] {
        &self.response[..self.head_len as usize]
    }

    /// The body as served: empty for HEAD and for statuses that have none.
    #[inline]
    pub fn body_for(&self, head_only: bool) -> &[u8] {
        if head_only || self.flags & FLAG_SENDS_BODY == 0 {
            &[]
        } else {
            &self.response[self.head_len as usize..]
        }
    }

    /// A 1xx mock: an interim status in HTTP/1.1, so the connection closes after it.
    #[inline]
    pub fn is_interim(&self) -> bool {
        self.status_code < 200
    }

    /// Whether the mock serves at `now_ms`: not removed and not past `expires_at`.
    #[inline]
    pub fn is_live(&self, now_ms: u64) -> bool {
        now_ms < self.expires_at_ms() && !self.removed.load(Ordering::Acquire)
    }

    /// Marks the mock removed; returns false if it already was.
    pub(crate) fn mark_removed(&self) -> bool {
        !self.removed.swap(true, Ordering::AcqRel)
    }

    /// Counts one hit from `worker`.
    #[inline]
    pub fn record_hit(&self, worker: usize) {
        if self.hits.is_empty() {
            self.hits_solo.fetch_add(1, Ordering::Relaxed);
        } else {
            self.hits[worker & (self.hits.len() - 1)]
                .0
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Marks the mock hit since the last rate sample; true for the hit that set the mark (the
    /// caller then queues the mock for sampling). A plain load on every later hit, so the flag's
    /// cache line stays shared between cores.
    #[inline]
    pub fn mark_touched(&self) -> bool {
        !self.touched.load(Ordering::Relaxed) && !self.touched.swap(true, Ordering::Relaxed)
    }

    /// Total hits: the sum of every stripe. Exact once the counting threads' responses were sent
    /// (each increment happens before its response is written).
    pub fn hit_count(&self) -> u64 {
        self.hits_solo.load(Ordering::Relaxed)
            + self
                .hits
                .iter()
                .map(|s| s.0.load(Ordering::Relaxed))
                .sum::<u64>()
    }

    /// Bytes this mock holds, for the memory cap: the struct, its heap parts and an allowance for
    /// its table and expiry-wheel entries.
    pub fn footprint(&self) -> usize {
        std::mem::size_of::<Mock>()
            + self.response.len()
            + self.extras.as_ref().map_or(0, |e| {
                std::mem::size_of::<Extras>()
                    + e.name.as_deref().map_or(0, str::len)
                    + e.content_type.as_deref().map_or(0, str::len)
            })
            + self.hits.len() * std::mem::size_of::<Stripe>()
            + 96
    }

    /// Records the hit total at unix second `sec` in the per-second history (sampler only).
    pub(crate) fn sample_rate(&self, sec: u64) {
        // Clear the mark first: a hit racing with this sample queues the mock again.
        self.touched.store(false, Ordering::Relaxed);
        let total = self.hit_count();
        let mut rates = self
            .rates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rates.get_or_insert_with(Box::default).sample(sec, total);
    }

    /// Hits per second over the last minute ending at `now_sec` (oldest first), and the first and
    /// last second with hits (unix ms).
    pub fn rates(&self, now_sec: u64) -> (Vec<u64>, Option<u64>, Option<u64>) {
        let rates = self
            .rates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match rates.as_deref() {
            Some(r) => (r.per_second(now_sec), r.first_hit_ms, r.last_hit_ms),
            None => (vec![0; rates::WINDOW_SECS], None, None),
        }
    }

    /// The API's view of this mock.
    pub fn view<'a>(&'a self, id_text: &'a str) -> MockView<'a> {
        MockView {
            mock_id: id_text,
            name: self.name(),
            status_code: self.status_code,
            content_type: self.content_type(),
            delay_ms: u32::from(self.delay_ms),
            has_custom_headers: self.flags & FLAG_CUSTOM_HEADERS != 0,
            has_body: self.flags & FLAG_BODY != 0,
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms(),
            hit_count: self.hit_count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guards the per-mock memory budget: with its `Arc` header the struct takes a 160-byte
    /// allocator chunk; one more word would push it into the next.
    #[test]
    fn mock_stays_small() {
        assert!(
            std::mem::size_of::<Mock>() <= 136,
            "{}",
            std::mem::size_of::<Mock>()
        );
    }

    #[test]
    fn extras_only_when_needed() {
        assert!(Extras::of(None, DEFAULT_CONTENT_TYPE.into()).is_none());
        let e = Extras::of(Some("n".into()), "text/plain".into()).unwrap();
        assert_eq!(
            (e.name.as_deref(), e.content_type.as_deref()),
            (Some("n"), Some("text/plain"))
        );
    }
}

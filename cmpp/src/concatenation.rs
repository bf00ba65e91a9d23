//! Long messages: splitting outgoing content into parts that each start with a concatenation user data header
//! (`05 00 03 reference total number`, `TP_udhi` = 1, `Pk_total`/`Pk_number` set), and a reassembly buffer for
//! incoming parts with a time limit. No I/O and no clock: callers pass `Instant`s.

use crate::text::{encode_text, MsgFmt};
use bytes::Bytes;
use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Most content bytes one ASCII message carries without a header ("under 160").
pub const MAX_SINGLE_ASCII_OCTETS: usize = 159;
/// Most content bytes one message in any other format carries.
pub const MAX_SINGLE_OCTETS: usize = 140;
/// Size of the concatenation header numbind writes.
pub const CONCATENATION_HEADER_LENGTH: usize = 6;
/// Content bytes after the header in each part.
pub const MAX_PART_OCTETS: usize = MAX_SINGLE_OCTETS - CONCATENATION_HEADER_LENGTH;

/// One SUBMIT's worth of content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub pk_total: u8,
    pub pk_number: u8,
    /// 1 when `content` starts with the concatenation header.
    pub tp_udhi: u8,
    pub msg_fmt: MsgFmt,
    pub content: Bytes,
}

/// Why content cannot be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    #[error("the content needs more than 255 parts")]
    TooManyParts,
    #[error("the content is empty")]
    Empty,
}

/// Splits `text` in numbind's encoding choice (ASCII when possible, else UCS-2).
pub fn split_text(text: &str, reference: u8) -> Result<Vec<Segment>, SplitError> {
    let (msg_fmt, content) = encode_text(text);
    split_content(msg_fmt, &content, reference)
}

/// Splits encoded `content` into parts, never cutting a UCS-2 surrogate pair or a GBK double-byte character.
pub fn split_content(msg_fmt: MsgFmt, content: &[u8], reference: u8) -> Result<Vec<Segment>, SplitError> {
    if content.is_empty() {
        return Err(SplitError::Empty);
    }
    let single_limit = if msg_fmt == MsgFmt::Ascii { MAX_SINGLE_ASCII_OCTETS } else { MAX_SINGLE_OCTETS };
    if content.len() <= single_limit {
        let content = Bytes::copy_from_slice(content);
        return Ok(vec![Segment { pk_total: 1, pk_number: 1, tp_udhi: 0, msg_fmt, content }]);
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < content.len() {
        let end = part_end(msg_fmt, content, start);
        chunks.push(&content[start..end]);
        start = end;
    }
    let total = u8::try_from(chunks.len()).map_err(|_| SplitError::TooManyParts)?;
    Ok(chunks
        .into_iter()
        .zip(1..=total)
        .map(|(chunk, number)| {
            let mut part = vec![0x05, 0x00, 0x03, reference, total, number];
            part.extend_from_slice(chunk);
            Segment { pk_total: total, pk_number: number, tp_udhi: 1, msg_fmt, content: part.into() }
        })
        .collect())
}

/// Where the part starting at `start` ends: at most [`MAX_PART_OCTETS`], on a character boundary.
fn part_end(msg_fmt: MsgFmt, content: &[u8], start: usize) -> usize {
    let limit = (start + MAX_PART_OCTETS).min(content.len());
    if limit == content.len() {
        return limit;
    }
    match msg_fmt {
        MsgFmt::Ucs2 => {
            let even = start + (limit - start) / 2 * 2;
            let high_surrogate = even >= 2 && (0xD8..=0xDB).contains(&content[even - 2]);
            if high_surrogate && even - 2 > start {
                even - 2
            } else {
                even
            }
        }
        MsgFmt::Gbk => {
            let mut position = start;
            while position < limit {
                let width = if content[position] >= 0x81 { 2 } else { 1 };
                if position + width > limit {
                    break;
                }
                position += width;
            }
            position.max(start + 1)
        }
        _ => limit,
    }
}

/// A concatenation information element read from a user data header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concatenation {
    /// The message's reference (8 or 16 bits on the wire).
    pub reference: u16,
    pub total: u8,
    /// From 1.
    pub number: u8,
}

/// Reads the user data header at the start of `content`: the concatenation element if there is one (IEI 0x00
/// or 0x08), and the content after the header. `None` when the header is malformed.
pub fn parse_user_data_header(content: &[u8]) -> Option<(Option<Concatenation>, &[u8])> {
    let header_length = usize::from(*content.first()?);
    let elements = content.get(1..1 + header_length)?;
    let rest = &content[1 + header_length..];
    let mut found = None;
    let mut position = 0;
    while position < elements.len() {
        let identifier = elements[position];
        let length = usize::from(*elements.get(position + 1)?);
        let data = elements.get(position + 2..position + 2 + length)?;
        found = match (identifier, data) {
            (0x00, [reference, total, number]) => Some((u16::from(*reference), *total, *number)),
            (0x08, [high, low, total, number]) => Some((u16::from_be_bytes([*high, *low]), *total, *number)),
            _ => found,
        };
        position += 2 + length;
    }
    let concatenation = found
        .filter(|(_, total, number)| *total >= 1 && (1..=*total).contains(number))
        .map(|(reference, total, number)| Concatenation { reference, total, number });
    Some((concatenation, rest))
}

/// Why a part was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReassemblyError {
    #[error("the reassembly buffer holds its maximum of incomplete messages")]
    Full,
}

/// A message whose parts all arrived: the content in order, and the caller's tag of every part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled<T> {
    pub content: Vec<u8>,
    pub tags: Vec<T>,
}

/// Parts of one message that did not all arrive within the time limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired<K, T> {
    pub key: K,
    pub reference: u16,
    pub tags: Vec<T>,
}

struct Pending<T> {
    first_seen: Instant,
    parts: Vec<Option<(T, Vec<u8>)>>,
}

/// Incoming parts waiting for their siblings, keyed by the caller's `K` (the sender, say) and the message's
/// reference and total. `T` is the caller's tag for each part (what it must answer once the whole is handled).
pub struct Reassembly<K, T> {
    time_limit: Duration,
    max_messages: usize,
    pending: HashMap<(K, u16, u8), Pending<T>>,
}

impl<K: Hash + Eq + Clone, T> Reassembly<K, T> {
    /// A buffer that drops a message `time_limit` after its first part and holds at most `max_messages`.
    pub fn new(time_limit: Duration, max_messages: usize) -> Self {
        Reassembly { time_limit, max_messages, pending: HashMap::new() }
    }

    /// Incomplete messages held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Adds one part; returns the whole message when this was its last missing part. A part number that
    /// arrives again (a redelivery) replaces the earlier copy.
    pub fn insert(
        &mut self,
        key: K,
        concatenation: Concatenation,
        tag: T,
        payload: &[u8],
        now: Instant,
    ) -> Result<Option<Reassembled<T>>, ReassemblyError> {
        let map_key = (key, concatenation.reference, concatenation.total);
        if !self.pending.contains_key(&map_key) && self.pending.len() >= self.max_messages {
            return Err(ReassemblyError::Full);
        }
        let total = usize::from(concatenation.total);
        let pending = self
            .pending
            .entry(map_key.clone())
            .or_insert_with(|| Pending { first_seen: now, parts: (0..total).map(|_| None).collect() });
        let index = usize::from(concatenation.number).saturating_sub(1).min(total - 1);
        pending.parts[index] = Some((tag, payload.to_vec()));
        if pending.parts.iter().any(Option::is_none) {
            return Ok(None);
        }
        let parts = self.pending.remove(&map_key).map(|pending| pending.parts).unwrap_or_default();
        let mut whole = Reassembled { content: Vec::new(), tags: Vec::with_capacity(total) };
        for (tag, payload) in parts.into_iter().flatten() {
            whole.content.extend_from_slice(&payload);
            whole.tags.push(tag);
        }
        Ok(Some(whole))
    }

    /// Removes and returns every message whose first part arrived `time_limit` or more before `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired<K, T>> {
        let limit = self.time_limit;
        let expired_keys: Vec<_> = self
            .pending
            .iter()
            .filter(|(_, pending)| now.saturating_duration_since(pending.first_seen) >= limit)
            .map(|(key, _)| key.clone())
            .collect();
        expired_keys
            .into_iter()
            .filter_map(|map_key| {
                let pending = self.pending.remove(&map_key)?;
                let tags = pending.parts.into_iter().flatten().map(|(tag, _)| tag).collect();
                Some(Expired { key: map_key.0, reference: map_key.1, tags })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

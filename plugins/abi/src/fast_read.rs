//! A quicker reader for appraise requests of the shape the host sends.
//!
//! Inside the sandbox, reading the request with serde_json alone is the largest part of an
//! appraisal's fuel: its general lexer costs some 30 Wasm instructions per byte, and the
//! request is ~1.1 KB per case. This reader knows the document's fields and reads them in one
//! pass, at a fraction of that.
//!
//! It is a fast path only, never a judge: it returns `None` for anything it is not certain
//! serde_json reads the same way — an escape in a string, a number outside the range that
//! converts exactly, a duplicate or missing field, an unknown enum spelling, nesting beyond
//! [`MAX_DEPTH`], trailing data — and the caller then parses with serde_json, which decides and
//! names the problem. So whatever this reader accepts, serde_json reads to the same value (the
//! differential tests check this on the fixtures and on thousands of mutations of them).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::types::{
    Activities, AppraiseRequest, Behavior, BerAkhlak, Budget, Case, Direction, Employee, Hook,
    Indicator, IndicatorKind, Innovation, Period, PublicFeedback,
};

/// Unknown values nested deeper than this are left to serde_json (whose own limit is 128).
const MAX_DEPTH: u32 = 64;

/// The powers of ten a number of at most 15 digits can need (all exact in an `f64`).
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Reads `json` as an appraise request, or `None` when serde_json should read it instead.
pub fn appraise_request(json: &str) -> Option<AppraiseRequest> {
    let mut c = Cursor::new(json);
    let mut seen = Seen::default();
    let (mut abi, mut hook, mut region, mut config, mut cases) = (None, None, None, None, None);
    c.object(|c, key| {
        match key {
            "abi" => set(&mut seen, 0, &mut abi, c.uint().and_then(to_u32))?,
            "hook" => set(&mut seen, 1, &mut hook, c.hook())?,
            "region" => set(&mut seen, 2, &mut region, c.string())?,
            "config" => set(&mut seen, 3, &mut config, c.config())?,
            "cases" => set(&mut seen, 4, &mut cases, c.array(Cursor::case))?,
            _ => c.skip(1)?,
        }
        Some(())
    })?;
    c.end()?;
    Some(AppraiseRequest {
        abi: abi?,
        hook: hook?,
        region: region?,
        config: config.unwrap_or_default(),
        cases: cases?,
    })
}

/// The fields of one object already read: serde refuses a duplicate field, so this reader
/// leaves such a document to it.
#[derive(Default)]
struct Seen(u32);

/// Stores the value of field `bit`, unless the field came before.
fn set<T>(seen: &mut Seen, bit: u32, slot: &mut Option<T>, value: Option<T>) -> Option<()> {
    if seen.0 & (1 << bit) != 0 {
        return None;
    }
    seen.0 |= 1 << bit;
    *slot = Some(value?);
    Some(())
}

/// Where the first byte of `bytes` that ends or escapes a string (`"`, `\\` or a control
/// character) is, or `bytes.len()` if none does. Eight bytes at a time: Wasm has 64-bit loads
/// and `ctz`, and most strings here are keys and codes of under 24 bytes. The reader stops on
/// it; the writer copies a string whole when there is none.
pub(crate) fn first_stop(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let found = stops(u64::from_le_bytes(w));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let rest = chunks.remainder();
    at + rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(rest.len())
}

/// Ones in `x` repeated in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of every byte of `w` (eight bytes of a string, little-endian) that ends or
/// escapes a string: `"`, `\` or a control character. The lowest set bit is always exact (the
/// borrow of the zero-byte test can only mark bytes above a true one), which is all
/// [`first_stop`] needs.
fn stops(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    (zero(quote) | zero(backslash) | (w.wrapping_sub(ONES * 0x20) & !w)) & (ONES << 7)
}

fn to_u32(n: u64) -> Option<u32> {
    u32::try_from(n).ok()
}

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    /// The next byte that is not JSON whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.at) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.at += 1)
    }

    /// Only whitespace may follow the document.
    fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// Consumes `null` if it comes next.
    fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.literal("null")?;
        Some(true)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// A string without escapes or control characters, borrowed from the document.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let end = start + first_stop(self.bytes.get(start..)?);
        self.close(start, end)
    }

    /// Ends the string that started at `start` and stopped at `end`: on its closing quote,
    /// or on an escape or control character, which are left to serde_json.
    fn close(&mut self, start: usize, end: usize) -> Option<&'a str> {
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null()? {
            return Some(None);
        }
        read(self).map(Some)
    }

    /// Calls `member` with each key; `member` reads the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    /// Digits without a leading zero (JSON's rule), at most 19 of them so they fit a `u64`;
    /// returns the value and the number of digits.
    fn digits(&mut self) -> Option<(u64, u32)> {
        let first = *self.bytes.get(self.at)?;
        if !first.is_ascii_digit() {
            return None;
        }
        let (mut value, mut count) = (0u64, 0u32);
        while let Some(&b) = self.bytes.get(self.at) {
            if !b.is_ascii_digit() {
                break;
            }
            if count == 19 || (first == b'0' && count == 1) {
                return None;
            }
            value = value * 10 + u64::from(b - b'0');
            count += 1;
            self.at += 1;
        }
        Some((value, count))
    }

    /// A non-negative integer written without fraction or exponent (serde_json refuses
    /// anything else for an integer field).
    fn uint(&mut self) -> Option<u64> {
        self.peek()?;
        let (value, _) = self.digits()?;
        match self.bytes.get(self.at) {
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(value),
        }
    }

    fn u8(&mut self) -> Option<u8> {
        u8::try_from(self.uint()?).ok()
    }

    /// A number read exactly as serde_json reads it into an `f64`. Only numbers of at most 15
    /// digits in all, without exponent, are taken: their digits are exact in an `f64`, as is
    /// the power of ten, so the one division serde_json does is correctly rounded, and gives
    /// the same value with or without its `float_roundtrip` feature.
    fn f64(&mut self) -> Option<f64> {
        let negative = self.peek()? == b'-';
        if negative {
            self.at += 1;
        }
        let (mut value, mut count) = self.digits()?;
        let mut decimals = 0usize;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            while let Some(&b) = self.bytes.get(self.at) {
                if !b.is_ascii_digit() {
                    break;
                }
                // Also stops the integer part's 16 to 19 digits: `value` must not overflow.
                if count >= 15 {
                    return None;
                }
                value = value * 10 + u64::from(b - b'0');
                count += 1;
                decimals += 1;
                self.at += 1;
            }
            if decimals == 0 {
                return None;
            }
        }
        if count > 15 || matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            return None;
        }
        let x = value as f64 / *POW10.get(decimals)?;
        Some(if negative { -x } else { x })
    }

    /// Skips a value the request types do not have a field for (serde ignores unknown
    /// fields).
    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.str().map(drop),
            b'{' => self.object(|c, _| c.skip(depth + 1)),
            b'[' => self.array(|c| c.skip(depth + 1)).map(drop),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            // A number `f64` does not take (long, or with an exponent) is left to serde_json.
            _ => self.f64().map(drop),
        }
    }

    fn hook(&mut self) -> Option<Hook> {
        match self.str()? {
            "appraise" => Some(Hook::Appraise),
            "rotate" => Some(Hook::Rotate),
            _ => None,
        }
    }

    /// The activation config: an empty object is read here; anything else is handed to
    /// serde_json as its own document, which reads it the same way it would in place.
    fn config(&mut self) -> Option<Map<String, Value>> {
        self.peek()?;
        let start = self.at;
        self.skip(1)?;
        let text = self.text.get(start..self.at)?;
        if text == "{}" {
            return Some(Map::new());
        }
        serde_json::from_str(text).ok()
    }

    fn case(&mut self) -> Option<Case> {
        let mut seen = Seen::default();
        let (mut employee, mut period, mut indicators, mut behavior) = (None, None, None, None);
        let (mut activities, mut innovations, mut process) = (None, None, None);
        let (mut budget, mut public_feedback) = (None, None);
        self.object(|c, key| {
            match key {
                "employee" => set(&mut seen, 0, &mut employee, c.employee())?,
                "period" => set(&mut seen, 1, &mut period, c.period())?,
                "indicators" => set(&mut seen, 2, &mut indicators, c.array(Cursor::indicator))?,
                "behavior" => set(&mut seen, 3, &mut behavior, c.behavior())?,
                "activities" => set(&mut seen, 4, &mut activities, c.opt(Cursor::activities))?,
                "innovations" => set(
                    &mut seen,
                    5,
                    &mut innovations,
                    c.opt(|c| c.array(Cursor::innovation)),
                )?,
                "process" => set(&mut seen, 6, &mut process, c.opt(Cursor::process))?,
                "budget" => set(&mut seen, 7, &mut budget, c.opt(Cursor::budget))?,
                "public_feedback" => set(
                    &mut seen,
                    8,
                    &mut public_feedback,
                    c.opt(Cursor::public_feedback),
                )?,
                _ => c.skip(3)?,
            }
            Some(())
        })?;
        Some(Case {
            employee: employee?,
            period: period?,
            indicators: indicators.unwrap_or_default(),
            behavior: behavior?,
            activities: activities.flatten(),
            innovations: innovations.flatten(),
            process: process.flatten(),
            budget: budget.flatten(),
            public_feedback: public_feedback.flatten(),
        })
    }

    fn employee(&mut self) -> Option<Employee> {
        let mut seen = Seen::default();
        let (mut nip, mut name, mut agency, mut position_id, mut position_since) =
            (None, None, None, None, None);
        self.object(|c, key| {
            match key {
                "nip" => set(&mut seen, 0, &mut nip, c.string())?,
                "name" => set(&mut seen, 1, &mut name, c.opt(Cursor::string))?,
                "agency" => set(&mut seen, 2, &mut agency, c.opt(Cursor::string))?,
                "position_id" => set(&mut seen, 3, &mut position_id, c.opt(Cursor::string))?,
                "position_since" => set(&mut seen, 4, &mut position_since, c.opt(Cursor::string))?,
                _ => c.skip(4)?,
            }
            Some(())
        })?;
        Some(Employee {
            nip: nip?,
            name: name.flatten(),
            agency: agency.flatten(),
            position_id: position_id.flatten(),
            position_since: position_since.flatten(),
        })
    }

    fn period(&mut self) -> Option<Period> {
        let mut seen = Seen::default();
        let (mut id, mut start, mut end, mut working_days) = (None, None, None, None);
        self.object(|c, key| {
            match key {
                "id" => set(&mut seen, 0, &mut id, c.string())?,
                "start" => set(&mut seen, 1, &mut start, c.string())?,
                "end" => set(&mut seen, 2, &mut end, c.string())?,
                "working_days" => set(&mut seen, 3, &mut working_days, c.uint().and_then(to_u32))?,
                _ => c.skip(4)?,
            }
            Some(())
        })?;
        Some(Period {
            id: id?,
            start: start?,
            end: end?,
            working_days: working_days?,
        })
    }

    fn indicator(&mut self) -> Option<Indicator> {
        let mut seen = Seen::default();
        let (mut id, mut name, mut kind, mut direction) = (None, None, None, None);
        let (mut unit, mut target, mut realization, mut weight) = (None, None, None, None);
        let mut evidence = None;
        self.object(|c, key| {
            match key {
                "id" => set(&mut seen, 0, &mut id, c.string())?,
                "name" => set(&mut seen, 1, &mut name, c.opt(Cursor::string))?,
                "kind" => set(&mut seen, 2, &mut kind, c.indicator_kind())?,
                "direction" => set(&mut seen, 3, &mut direction, c.direction())?,
                "unit" => set(&mut seen, 4, &mut unit, c.opt(Cursor::string))?,
                "target" => set(&mut seen, 5, &mut target, c.f64())?,
                "realization" => set(&mut seen, 6, &mut realization, c.opt(Cursor::f64))?,
                "weight" => set(&mut seen, 7, &mut weight, c.opt(Cursor::f64))?,
                "evidence" => set(&mut seen, 8, &mut evidence, c.uint().and_then(to_u32))?,
                _ => c.skip(5)?,
            }
            Some(())
        })?;
        Some(Indicator {
            id: id?,
            name: name.flatten(),
            kind: kind?,
            direction: direction?,
            unit: unit.flatten(),
            target: target?,
            realization: realization.flatten(),
            weight: weight.flatten(),
            evidence,
        })
    }

    fn indicator_kind(&mut self) -> Option<IndicatorKind> {
        match self.str()? {
            "utama" => Some(IndicatorKind::Utama),
            "tambahan" => Some(IndicatorKind::Tambahan),
            _ => None,
        }
    }

    fn direction(&mut self) -> Option<Direction> {
        match self.str()? {
            "higher_is_better" => Some(Direction::HigherIsBetter),
            "lower_is_better" => Some(Direction::LowerIsBetter),
            _ => None,
        }
    }

    fn behavior(&mut self) -> Option<Behavior> {
        let mut seen = Seen::default();
        let (mut supervisor, mut peers, mut own) = (None, None, None);
        self.object(|c, key| {
            match key {
                "supervisor" => set(&mut seen, 0, &mut supervisor, c.berakhlak())?,
                "peers" => set(
                    &mut seen,
                    1,
                    &mut peers,
                    c.opt(|c| c.array(Cursor::berakhlak)),
                )?,
                "self" => set(&mut seen, 2, &mut own, c.opt(Cursor::berakhlak))?,
                _ => c.skip(4)?,
            }
            Some(())
        })?;
        Some(Behavior {
            supervisor: supervisor?,
            peers: peers.flatten(),
            self_assessment: own.flatten(),
        })
    }

    fn berakhlak(&mut self) -> Option<BerAkhlak> {
        let mut seen = Seen::default();
        let mut r = [None; 7];
        self.object(|c, key| {
            let i = match key {
                "berorientasi_pelayanan" => 0,
                "akuntabel" => 1,
                "kompeten" => 2,
                "harmonis" => 3,
                "loyal" => 4,
                "adaptif" => 5,
                "kolaboratif" => 6,
                _ => return c.skip(6),
            };
            set(&mut seen, i as u32, &mut r[i], c.u8())
        })?;
        Some(BerAkhlak {
            berorientasi_pelayanan: r[0]?,
            akuntabel: r[1]?,
            kompeten: r[2]?,
            harmonis: r[3]?,
            loyal: r[4]?,
            adaptif: r[5]?,
            kolaboratif: r[6]?,
        })
    }

    fn activities(&mut self) -> Option<Activities> {
        let mut seen = Seen::default();
        let mut days_reported = None;
        let mut minutes_reported = None;
        self.object(|c, key| match key {
            "days_reported" => set(&mut seen, 0, &mut days_reported, c.uint().and_then(to_u32)),
            "minutes_reported" => set(&mut seen, 1, &mut minutes_reported, c.uint()),
            _ => c.skip(4),
        })?;
        Some(Activities {
            days_reported: days_reported?,
            minutes_reported,
        })
    }

    fn innovation(&mut self) -> Option<Innovation> {
        let mut seen = Seen::default();
        let (mut title, mut date) = (None, None);
        self.object(|c, key| match key {
            "title" => set(&mut seen, 0, &mut title, c.opt(Cursor::string)),
            "date" => set(&mut seen, 1, &mut date, c.opt(Cursor::string)),
            _ => c.skip(5),
        })?;
        Some(Innovation {
            title: title.flatten(),
            date: date.flatten(),
        })
    }

    /// A map keeps the last of repeated keys, as serde's map does.
    fn process(&mut self) -> Option<BTreeMap<String, f64>> {
        let mut map = BTreeMap::new();
        self.object(|c, key| {
            map.insert(key.to_owned(), c.f64()?);
            Some(())
        })?;
        Some(map)
    }

    fn budget(&mut self) -> Option<Budget> {
        let mut seen = Seen::default();
        let (mut planned, mut realized) = (None, None);
        self.object(|c, key| match key {
            "planned" => set(&mut seen, 0, &mut planned, c.f64()),
            "realized" => set(&mut seen, 1, &mut realized, c.f64()),
            _ => c.skip(4),
        })?;
        Some(Budget {
            planned: planned?,
            realized: realized?,
        })
    }

    fn public_feedback(&mut self) -> Option<PublicFeedback> {
        let mut seen = Seen::default();
        let (mut ikm, mut respondents) = (None, None);
        self.object(|c, key| match key {
            "ikm" => set(&mut seen, 0, &mut ikm, c.f64()),
            "respondents" => set(&mut seen, 1, &mut respondents, c.uint()),
            _ => c.skip(4),
        })?;
        Some(PublicFeedback {
            ikm: ikm?,
            respondents: respondents?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// What serde_json makes of `text`, as the fast path must.
    fn by_serde(text: &str) -> Option<AppraiseRequest> {
        serde_json::from_str(text).ok()
    }

    /// The fast path agrees with serde_json: whatever it accepts, serde_json reads to the same
    /// value, down to the sign of a zero (hence the comparison of the re-encoded forms too).
    fn agree(text: &str) -> bool {
        let Some(fast) = appraise_request(text) else {
            return false;
        };
        let serde = by_serde(text)
            .unwrap_or_else(|| panic!("the fast path accepted what serde refuses: {text}"));
        assert_eq!(fast, serde, "{text}");
        assert_eq!(
            serde_json::to_string(&fast).ok(),
            serde_json::to_string(&serde).ok(),
            "{text}"
        );
        true
    }

    fn fixtures() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let mut texts = Vec::new();
        for region in std::fs::read_dir(&dir).expect("fixtures") {
            let region = region.expect("entry").path();
            let Ok(files) = std::fs::read_dir(&region) else {
                continue;
            };
            for file in files {
                let path = file.expect("entry").path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("appraise") && name.ends_with(".request.json") {
                    texts.push(std::fs::read_to_string(&path).expect("read"));
                }
            }
        }
        assert!(texts.len() > 40, "found {} appraise fixtures", texts.len());
        texts
    }

    #[test]
    fn reads_the_fixtures_as_serde_does() {
        let texts = fixtures();
        let read = texts.iter().filter(|t| agree(t)).count();
        // The fixtures are the host's shape (they are generated like its requests): the fast
        // path is only worth having if it takes them.
        assert!(
            read * 10 >= texts.len() * 9,
            "read {read} of {}",
            texts.len()
        );
    }

    /// xorshift64*: enough to vary mutations, and the same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Mutations of the fixtures that keep the text UTF-8: bytes replaced by JSON's
    /// structural and number characters, spans deleted or repeated, keys renamed. Where the
    /// fast path takes a mutant, it must read what serde_json reads.
    #[test]
    fn mutants_are_read_as_serde_reads_them_or_left_to_it() {
        const SWAPS: &[&str] = &[
            "\"",
            "\\",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "0",
            "-",
            ".",
            "e",
            "E",
            "+",
            " ",
            "\n",
            "null",
            "true",
            "1e2",
            "00",
            "-0",
            "256",
            "1.5",
            "\u{1}",
            "é",
            "\\u0041",
            "1234567890123456",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut taken, mut tried) = (0, 0);
        for text in fixtures() {
            for _ in 0..300 {
                let mut mutant = text.clone();
                for _ in 0..1 + rng.below(3) {
                    let mut at = rng.below(mutant.len());
                    while !mutant.is_char_boundary(at) {
                        at -= 1;
                    }
                    let mut end = (at + 1 + rng.below(12)).min(mutant.len());
                    while !mutant.is_char_boundary(end) {
                        end += 1;
                    }
                    match rng.below(3) {
                        0 => mutant.replace_range(at..end, SWAPS[rng.below(SWAPS.len())]),
                        1 => mutant.replace_range(at..end, ""),
                        _ => {
                            let span = mutant[at..end].to_string();
                            mutant.insert_str(at, &span);
                        }
                    }
                }
                tried += 1;
                if agree(&mutant) {
                    taken += 1;
                }
            }
        }
        // Some mutants stay valid (inside a name, a digit for a digit): the check above must
        // have been exercised, not only the refusals.
        assert!(taken * 20 > tried, "took {taken} of {tried}");
    }

    /// A request with `n` as an indicator's target and realization (f64 fields) and `k` as the
    /// working days and a rating (integer fields).
    fn with_numbers(n: &str, k: &str) -> String {
        format!(
            r#"{{"abi":1,"hook":"appraise","region":"r","config":{{}},"cases":[{{
              "employee":{{"nip":"197001012000011001"}},
              "period":{{"id":"2026","start":"2026-01-01","end":"2026-12-31","working_days":{k}}},
              "indicators":[{{"id":"a","kind":"utama","direction":"higher_is_better","target":{n},
                "realization":{n}}}],
              "behavior":{{"supervisor":{{"berorientasi_pelayanan":{k},"akuntabel":4,"kompeten":4,
                "harmonis":4,"loyal":4,"adaptif":4,"kolaboratif":4}}}}}}]}}"#
        )
    }

    fn with_number(n: &str) -> String {
        with_numbers(n, "4")
    }

    const NUMBERS: &[&str] = &[
        "0",
        "1",
        "4",
        "5",
        "255",
        "256",
        "-0",
        "-1",
        "01",
        "1.",
        ".5",
        "-",
        "1.5",
        "0.1",
        "2.675",
        "-0.0",
        "3.0",
        "1e2",
        "1E2",
        "1.0e-2",
        "123456789012345",
        "1234567890123456",
        "12345678901234567890",
        "0.30000000000000004",
        "9007199254740993",
        "99999999999999999999",
        "1.7976931348623157e308",
        "1e400",
        "9999999999999999999.5",
        "12345678901234567890.5",
        "2000000000000000.00000",
        "123456789012345.0",
        "-85.25",
    ];

    /// In f64 fields: every number the fast path takes reads as serde_json reads it, and the
    /// host's usual forms are taken.
    #[test]
    fn numbers_are_read_exactly_or_left_to_serde() {
        for n in NUMBERS {
            let text = with_number(n);
            let fast = appraise_request(&text);
            assert!(fast.is_none() || agree(&text), "{n}");
            if ["1", "4", "1.5", "0.1", "2.675", "-85.25", "3.0", "-0.0"].contains(n) {
                assert!(fast.is_some(), "{n}");
            }
            let f = Cursor::new(n).f64();
            if let Some(f) = f {
                let serde = serde_json::from_str::<f64>(n).ok().map(f64::to_bits);
                assert_eq!(Some(f.to_bits()), serde, "{n}");
            }
        }
    }

    /// In integer fields: the same, for whole numbers in range only.
    #[test]
    fn integers_are_read_exactly_or_left_to_serde() {
        for k in NUMBERS {
            let text = with_numbers("4", k);
            let fast = appraise_request(&text);
            assert!(fast.is_none() || agree(&text), "{k}");
            assert_eq!(
                fast.is_some(),
                ["0", "1", "4", "5", "255"].contains(k),
                "{k}"
            );
        }
    }

    #[test]
    fn what_serde_refuses_or_reads_otherwise_is_left_to_it() {
        let base = with_number("4");
        assert!(agree(&base));
        for (what, from, to) in [
            ("a duplicate field", r#""nip":"#, r#""nip":"1","nip":"#),
            ("an escape", r#""id":"a""#, r#""id":"\u0061""#),
            ("a control character", r#""id":"a""#, "\"id\":\"a\u{1}\""),
            ("a missing field", r#""kind":"utama","#, ""),
            ("an unknown spelling", "utama", "Utama"),
            ("trailing data", "]}", "]}x"),
            (
                "a struct as an array",
                r#"{"nip":"197001012000011001"}"#,
                r#"["197001012000011001"]"#,
            ),
            (
                "null for a list",
                r#""indicators":["#,
                r#""indicators":null,"x":["#,
            ),
            (
                "a number with an exponent",
                r#""abi":1"#,
                r#""abi":1,"x":1e5"#,
            ),
        ] {
            let text = base.replacen(from, to, 1);
            assert_ne!(text, base, "{what}");
            assert!(appraise_request(&text).is_none(), "{what}: {text}");
        }
    }

    #[test]
    fn unknown_fields_nulls_and_whitespace_read_as_serde_reads_them() {
        let base = with_number("4");
        for (from, to) in [
            (
                r#""abi":1"#,
                " \n\t\"abi\" : 1 , \"extra\" : {\"a\":[1,2.5,true,false,null,\"s\"]}",
            ),
            (
                r#""nip":"197001012000011001""#,
                r#""nip":"197001012000011001","name":null,"agency":"Dinas Pendidikan — Kota""#,
            ),
            (
                "\"target\":4,\n                \"realization\":4",
                r#""target":4,"realization":null,"weight":null,"unit":"hari""#,
            ),
            (r#""config":{}"#, r#""config":{"tpp_percent":{"baik":100}}"#),
            (
                "]}",
                r#"],"innovations":[],"process":{"a":1,"a":2},"budget":null}"#,
            ),
        ] {
            let text = base.replacen(from, to, 1);
            assert_ne!(text, base);
            assert!(agree(&text), "{text}");
        }
    }

    /// `first_stop` finds the first quote, backslash or control character at any position of
    /// strings of every length around the eight-byte steps, and the length when there is none.
    #[test]
    fn first_stop_finds_the_first_special_byte_at_any_length() {
        for len in 0..26 {
            let plain = "é".repeat(len / 2) + &"x".repeat(len % 2);
            assert_eq!(first_stop(plain.as_bytes()), plain.len(), "{plain}");
            for at in 0..plain.len() {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    let mut bytes = plain.clone().into_bytes();
                    bytes[at] = special;
                    if let Some(b) = bytes.get_mut(at + 1) {
                        *b = b'"';
                    }
                    assert_eq!(first_stop(&bytes), at, "{bytes:?}");
                }
            }
        }
    }

    /// `stops` finds the first quote, backslash or control character of eight bytes, wherever
    /// it is and whatever follows it.
    #[test]
    fn stops_finds_the_first_special_byte() {
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for at in 0..8 {
                for after in [b'a', b'"', 0, 0xff, b'\\', 0x1f, 0x20, 0x21, 0x5d] {
                    let mut w = [b'x'; 8];
                    w[at] = special;
                    for b in w.iter_mut().skip(at + 1) {
                        *b = after;
                    }
                    let s = stops(u64::from_le_bytes(w));
                    assert_eq!((s.trailing_zeros() / 8) as usize, at, "{w:?}");
                }
            }
        }
        for b in (0x20u8..=0xff).filter(|b| *b != b'"' && *b != b'\\') {
            assert_eq!(stops(u64::from_le_bytes([b; 8])), 0, "{b:#x}");
        }
    }
}

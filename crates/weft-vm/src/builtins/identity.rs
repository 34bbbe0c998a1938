//! Identity and hashing builtins (stdlib.md "Identity and hashing"):
//! `uuid`, `sha256`, `base64_encode`, `base64_decode`.

use std::fmt::Write;

use base64::engine::general_purpose::STANDARD;
use base64::{DecodeError, Engine};
use sha2::{Digest, Sha256};

use super::{sync, Args, BuiltinDef};
use crate::error::{value_error, RtResult};
use crate::value::Value;
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync(
            "uuid",
            &[],
            0,
            0,
            "identity",
            "A new time-ordered UUID (version 7) as a lowercase hyphenated string.",
            uuid,
        ),
        sync(
            "sha256",
            &["text"],
            1,
            1,
            "identity",
            "The SHA-256 digest of the string's UTF-8 bytes, as 64 lowercase hex digits.",
            sha256,
        ),
        sync(
            "base64_encode",
            &["text"],
            1,
            1,
            "identity",
            "The string's UTF-8 bytes in standard base64 (with `=` padding).",
            base64_encode,
        ),
        sync(
            "base64_decode",
            &["text"],
            1,
            1,
            "identity",
            "Decodes standard padded base64 into a UTF-8 string; invalid input raises value_error.",
            base64_decode,
        ),
    ]
}

fn uuid(_: &mut Vm, _: &mut Args) -> RtResult<Value> {
    Ok(Value::str(uuid::Uuid::now_v7().to_string()))
}

fn sha256(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let digest = Sha256::digest(args.str(0)?.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    Ok(Value::str(hex))
}

fn base64_encode(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    Ok(Value::str(STANDARD.encode(args.str(0)?.as_bytes())))
}

fn base64_decode(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    // Surrounding whitespace (a trailing newline from a file) is forgiven;
    // anything inside must be valid standard, padded base64.
    let input = args.str(0)?.trim();
    let bytes = STANDARD.decode(input).map_err(|e| {
        value_error(format!(
            "{}: invalid base64: {}",
            args.name,
            decode_reason(&e)
        ))
    })?;
    String::from_utf8(bytes).map(Value::str).map_err(|_| {
        value_error(format!(
            "{}: the decoded bytes are not valid UTF-8 text",
            args.name
        ))
    })
}

/// A readable reason for a base64 decoding failure.
fn decode_reason(e: &DecodeError) -> String {
    let ch = |b: u8| match b {
        0x20..=0x7e => format!("'{}'", b as char),
        _ => format!("byte 0x{b:02x}"),
    };
    match e {
        DecodeError::InvalidByte(at, b) => format!("unexpected {} at offset {at}", ch(*b)),
        DecodeError::InvalidLength(len) => {
            format!("length {len} is not valid (missing or extra characters?)")
        }
        DecodeError::InvalidLastSymbol(at, b) => {
            format!("unexpected final {} at offset {at}", ch(*b))
        }
        DecodeError::InvalidPadding => "wrong or missing `=` padding".to_string(),
    }
}

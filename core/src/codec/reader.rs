use super::CodecError;

/// A bounds-checked cursor over untrusted bytes.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Fails unless at least `n` bytes remain (call before allocating for them).
    pub(super) fn check_remaining(&self, n: usize) -> Result<(), CodecError> {
        if self.bytes.len() - self.pos < n {
            return Err(CodecError::Truncated);
        }
        Ok(())
    }

    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        self.check_remaining(n)?;
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(super) fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.bytes(1)?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(
            self.bytes(2)?
                .try_into()
                .map_err(|_| CodecError::Truncated)?,
        ))
    }

    pub(super) fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(
            self.bytes(4)?
                .try_into()
                .map_err(|_| CodecError::Truncated)?,
        ))
    }

    pub(super) fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(
            self.bytes(8)?
                .try_into()
                .map_err(|_| CodecError::Truncated)?,
        ))
    }

    /// Bytes not yet read.
    pub(super) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Fails unless `count` items of at least `each` bytes could still follow: the check a
    /// list decoder makes before reserving room for `count` items.
    pub(super) fn check_count(&self, count: usize, each: usize) -> Result<(), CodecError> {
        match count.checked_mul(each.max(1)) {
            Some(n) if n <= self.remaining() => Ok(()),
            _ => Err(CodecError::Truncated),
        }
    }

    pub(super) fn f64(&mut self) -> Result<f64, CodecError> {
        Ok(f64::from_bits(self.u64()?))
    }

    /// Fails if bytes remain.
    pub(super) fn finish(&self) -> Result<(), CodecError> {
        match self.bytes.len() - self.pos {
            0 => Ok(()),
            n => Err(CodecError::TrailingBytes(n)),
        }
    }
}

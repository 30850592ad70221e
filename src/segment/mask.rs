//! [`Mask`]: one binary mask on one series' voxel grid, stored by its
//! bounding box, and its compact run-length byte form.

use super::SegmentError;

/// A voxel index `[slice, row, column]`.
pub type Voxel = [usize; 3];

/// A binary mask on a series' voxel grid (`[slices, rows, columns]`), stored
/// only inside its bounding box: a 30 mm lesion in a 512 × 512 × 300 CT takes
/// tens of kilobytes, never the whole grid.
///
/// Invariant: `data.len() == size[0] * size[1] * size[2]` and the box lies in
/// the grid. Every voxel outside the box is outside the mask.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mask {
    grid: [usize; 3],
    origin: [usize; 3],
    size: [usize; 3],
    data: Vec<u8>,
}

/// Magic bytes of the serialised form.
const MAGIC: &[u8; 4] = b"NMSK";
/// Version of the serialised form.
const VERSION: u8 = 1;
/// Largest grid dimension accepted when reading bytes.
const MAX_DIM: usize = 1 << 16;

impl Mask {
    /// An empty mask on a grid of `[slices, rows, columns]`.
    pub fn empty(grid: [usize; 3]) -> Mask {
        Mask {
            grid,
            origin: [0; 3],
            size: [0; 3],
            data: Vec::new(),
        }
    }

    /// A mask of box `origin + size` (clipped to the grid) from a closure.
    pub fn from_fn(
        grid: [usize; 3],
        origin: [usize; 3],
        size: [usize; 3],
        mut inside: impl FnMut(Voxel) -> bool,
    ) -> Mask {
        let mut mask = Mask::empty(grid);
        let size = clip_size(grid, origin, size);
        if size.contains(&0) {
            return mask;
        }
        mask.origin = origin;
        mask.size = size;
        mask.data = vec![0; size[0] * size[1] * size[2]];
        for s in 0..size[0] {
            for r in 0..size[1] {
                for c in 0..size[2] {
                    if inside([origin[0] + s, origin[1] + r, origin[2] + c])
                        && let Some(slot) = mask.data.get_mut((s * size[1] + r) * size[2] + c)
                    {
                        *slot = 1;
                    }
                }
            }
        }
        mask.shrink();
        mask
    }

    /// Builds a mask from a box and its voxels (1 = inside), row-major
    /// `[slice][row][column]`; the box is shrunk to its content.
    pub(crate) fn from_box(
        grid: [usize; 3],
        origin: [usize; 3],
        size: [usize; 3],
        data: Vec<u8>,
    ) -> Mask {
        let clipped = clip_size(grid, origin, size);
        if clipped != size || data.len() != size[0] * size[1] * size[2] || size.contains(&0) {
            return Mask::empty(grid);
        }
        let mut mask = Mask {
            grid,
            origin,
            size,
            data,
        };
        mask.shrink();
        mask
    }

    /// The grid `[slices, rows, columns]` the mask lives on.
    pub fn grid(&self) -> [usize; 3] {
        self.grid
    }

    /// The bounding box: first voxel and extent `[slices, rows, columns]`
    /// (all zero when empty).
    pub fn bounds(&self) -> ([usize; 3], [usize; 3]) {
        (self.origin, self.size)
    }

    /// Whether no voxel is inside.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Whether a voxel is inside (false outside the grid).
    pub fn contains(&self, [s, r, c]: Voxel) -> bool {
        self.local(s, r, c)
            .and_then(|i| self.data.get(i))
            .is_some_and(|&v| v != 0)
    }

    fn local(&self, s: usize, r: usize, c: usize) -> Option<usize> {
        let [s0, r0, c0] = self.origin;
        let [ns, nr, nc] = self.size;
        let (s, r, c) = (s.checked_sub(s0)?, r.checked_sub(r0)?, c.checked_sub(c0)?);
        (s < ns && r < nr && c < nc).then_some((s * nr + r) * nc + c)
    }

    /// Number of voxels inside.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&v| v != 0).count()
    }

    /// Number of voxels inside on each slice of the grid that the box covers:
    /// `(slice, count)` pairs in slice order.
    pub fn counts_per_slice(&self) -> Vec<(usize, usize)> {
        let plane = self.size[1] * self.size[2];
        self.data
            .chunks(plane.max(1))
            .enumerate()
            .map(|(i, chunk)| {
                (
                    self.origin[0] + i,
                    chunk.iter().filter(|&&v| v != 0).count(),
                )
            })
            .collect()
    }

    /// The slices with at least one voxel inside, ascending.
    pub fn slices(&self) -> Vec<usize> {
        self.counts_per_slice()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, _)| s)
            .collect()
    }

    /// The in-plane box of slice `slice`: rows `r0..r0+nr`, columns `c0..c0+nc`
    /// and the row-major bytes of that slice, when the slice is in the box.
    pub(crate) fn slice_view(&self, slice: usize) -> Option<([usize; 2], [usize; 2], &[u8])> {
        let k = slice.checked_sub(self.origin[0])?;
        if k >= self.size[0] {
            return None;
        }
        let plane = self.size[1] * self.size[2];
        let data = self.data.get(k * plane..(k + 1) * plane)?;
        Some((
            [self.origin[1], self.origin[2]],
            [self.size[1], self.size[2]],
            data,
        ))
    }

    /// Every voxel inside, in slice, row, column order.
    pub fn voxels(&self) -> impl Iterator<Item = Voxel> + '_ {
        let [s0, r0, c0] = self.origin;
        let [_, nr, nc] = self.size;
        self.data
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(move |(i, _)| {
                let c = i % nc.max(1);
                let r = (i / nc.max(1)) % nr.max(1);
                let s = i / (nc * nr).max(1);
                [s0 + s, r0 + r, c0 + c]
            })
    }

    /// Sets the voxels of one slice given by `inside(row, column)` within the
    /// in-plane box `rows × columns` (clipped to the grid) to `value`,
    /// growing or shrinking the bounding box as needed.
    pub fn paint_slice(
        &mut self,
        slice: usize,
        rows: std::ops::Range<usize>,
        columns: std::ops::Range<usize>,
        value: bool,
        inside: impl Fn(usize, usize) -> bool,
    ) {
        let [gs, gr, gc] = self.grid;
        if slice >= gs {
            return;
        }
        let rows = rows.start.min(gr)..rows.end.min(gr);
        let columns = columns.start.min(gc)..columns.end.min(gc);
        if rows.is_empty() || columns.is_empty() {
            return;
        }
        if value {
            self.ensure_box(
                [slice, rows.start, columns.start],
                [slice + 1, rows.end, columns.end],
            );
        }
        for r in rows {
            for c in columns.clone() {
                if inside(r, c)
                    && let Some(slot) = self.local(slice, r, c).and_then(|i| self.data.get_mut(i))
                {
                    *slot = u8::from(value);
                }
            }
        }
        self.shrink();
    }

    /// Replaces one slice of the mask with a 2-D box of bytes (1 = inside)
    /// at rows `r0..r0+nr`, columns `c0..c0+nc`.
    pub(crate) fn set_slice_box(
        &mut self,
        slice: usize,
        start: [usize; 2],
        size: [usize; 2],
        bytes: &[u8],
    ) {
        self.paint_slice(
            slice,
            start[0]..start[0] + size[0],
            start[1]..start[1] + size[1],
            true,
            |r, c| {
                bytes
                    .get((r - start[0]) * size[1] + (c - start[1]))
                    .is_some_and(|&v| v != 0)
            },
        );
    }

    /// Grows the box to contain `[lo, hi)` (clipped to the grid).
    fn ensure_box(&mut self, lo: [usize; 3], hi: [usize; 3]) {
        let hi = [
            hi[0].min(self.grid[0]),
            hi[1].min(self.grid[1]),
            hi[2].min(self.grid[2]),
        ];
        let (new_lo, new_hi) = if self.is_empty() {
            (lo, hi)
        } else {
            let old_hi = [
                self.origin[0] + self.size[0],
                self.origin[1] + self.size[1],
                self.origin[2] + self.size[2],
            ];
            (
                [0, 1, 2].map(|a| lo[a].min(self.origin[a])),
                [0, 1, 2].map(|a| hi[a].max(old_hi[a])),
            )
        };
        let new_size = [0, 1, 2].map(|a| new_hi[a].saturating_sub(new_lo[a]));
        if new_lo == self.origin && new_size == self.size {
            return;
        }
        let mut data = vec![0u8; new_size[0] * new_size[1] * new_size[2]];
        for v in self.voxels() {
            let i = ((v[0] - new_lo[0]) * new_size[1] + (v[1] - new_lo[1])) * new_size[2]
                + (v[2] - new_lo[2]);
            if let Some(slot) = data.get_mut(i) {
                *slot = 1;
            }
        }
        self.origin = new_lo;
        self.size = new_size;
        self.data = data;
    }

    /// Shrinks the box to the voxels inside (empty box when none).
    fn shrink(&mut self) {
        let mut lo = [usize::MAX; 3];
        let mut hi = [0usize; 3];
        let mut any = false;
        for v in self.voxels() {
            any = true;
            for a in 0..3 {
                lo[a] = lo[a].min(v[a]);
                hi[a] = hi[a].max(v[a] + 1);
            }
        }
        if !any {
            *self = Mask::empty(self.grid);
            return;
        }
        let size = [0, 1, 2].map(|a| hi[a] - lo[a]);
        if lo == self.origin && size == self.size {
            return;
        }
        let mut data = vec![0u8; size[0] * size[1] * size[2]];
        for v in self.voxels() {
            let i = ((v[0] - lo[0]) * size[1] + (v[1] - lo[1])) * size[2] + (v[2] - lo[2]);
            if let Some(slot) = data.get_mut(i) {
                *slot = 1;
            }
        }
        self.origin = lo;
        self.size = size;
        self.data = data;
    }

    /// The compact byte form: `NMSK`, version, grid, box (u32 LE each), then
    /// the box's voxels as run lengths (LEB128), alternating outside/inside,
    /// starting with an outside run.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        for v in self.grid.iter().chain(&self.origin).chain(&self.size) {
            out.extend_from_slice(&(*v as u32).to_le_bytes());
        }
        let mut current = 0u8;
        let mut run = 0u64;
        for &v in &self.data {
            let v = u8::from(v != 0);
            if v == current {
                run += 1;
            } else {
                push_varint(&mut out, run);
                current = v;
                run = 1;
            }
        }
        push_varint(&mut out, run);
        out
    }

    /// Reads the form of [`Mask::to_bytes`]; a typed error for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Mask, SegmentError> {
        let corrupt = |why: &str| SegmentError::CorruptMask(why.to_string());
        if bytes.get(0..4) != Some(MAGIC.as_slice()) {
            return Err(corrupt("not a mask (magic)"));
        }
        match bytes.get(4) {
            Some(&VERSION) => {}
            Some(&v) => return Err(SegmentError::MaskVersion(v)),
            None => return Err(corrupt("truncated header")),
        }
        let mut header = [0usize; 9];
        for (i, slot) in header.iter_mut().enumerate() {
            let at = 5 + 4 * i;
            let word = bytes
                .get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .ok_or_else(|| corrupt("truncated header"))?;
            *slot = u32::from_le_bytes(word) as usize;
        }
        let grid = [header[0], header[1], header[2]];
        let origin = [header[3], header[4], header[5]];
        let size = [header[6], header[7], header[8]];
        if grid.iter().any(|&g| g > MAX_DIM) {
            return Err(corrupt("grid too large"));
        }
        if clip_size(grid, origin, size) != size {
            return Err(corrupt("box outside the grid"));
        }
        let total = size[0]
            .checked_mul(size[1])
            .and_then(|n| n.checked_mul(size[2]))
            .ok_or_else(|| corrupt("box too large"))?;
        let mut data = Vec::with_capacity(total.min(1 << 24));
        let mut at = 5 + 36;
        let mut value = 0u8;
        while at < bytes.len() {
            let (run, used) = read_varint(bytes.get(at..).unwrap_or(&[]))
                .ok_or_else(|| corrupt("bad run length"))?;
            at += used;
            let run = usize::try_from(run).map_err(|_| corrupt("run too long"))?;
            if run > total - data.len() {
                return Err(corrupt("runs exceed the box"));
            }
            data.resize(data.len() + run, value);
            value ^= 1;
        }
        if data.len() != total {
            return Err(corrupt("runs do not fill the box"));
        }
        if total == 0 {
            return Ok(Mask::empty(grid));
        }
        Ok(Mask::from_box(grid, origin, size, data))
    }
}

fn clip_size(grid: [usize; 3], origin: [usize; 3], size: [usize; 3]) -> [usize; 3] {
    [0, 1, 2].map(|a| {
        let end = origin[a].saturating_add(size[a]).min(grid[a]);
        end.saturating_sub(origin[a])
    })
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ball(grid: [usize; 3], centre: [f64; 3], radius: f64) -> Mask {
        Mask::from_fn(grid, [0; 3], grid, |[s, r, c]| {
            let d = [
                s as f64 - centre[0],
                r as f64 - centre[1],
                c as f64 - centre[2],
            ];
            d.iter().map(|x| x * x).sum::<f64>() <= radius * radius
        })
    }

    #[test]
    fn the_box_is_the_bounding_box_of_the_content() {
        let m = ball([20, 30, 40], [10.0, 15.0, 20.0], 3.0);
        assert_eq!(m.bounds(), ([7, 12, 17], [7, 7, 7]));
        assert!(m.contains([10, 15, 20]));
        assert!(!m.contains([10, 15, 24]));
        assert!(!m.contains([100, 0, 0]));
        assert_eq!(m.voxels().count(), m.count());
    }

    #[test]
    fn bytes_round_trip_and_are_compact() {
        let m = ball([50, 512, 512], [25.0, 200.0, 300.0], 10.0);
        let bytes = m.to_bytes();
        assert!(bytes.len() < m.count() / 4, "{} bytes", bytes.len());
        assert_eq!(Mask::from_bytes(&bytes).unwrap(), m);
        let empty = Mask::empty([3, 4, 5]);
        assert_eq!(Mask::from_bytes(&empty.to_bytes()).unwrap(), empty);
    }

    #[test]
    fn corrupt_bytes_are_typed_errors_not_panics() {
        let m = ball([20, 30, 40], [10.0, 15.0, 20.0], 3.0);
        let bytes = m.to_bytes();
        assert!(matches!(
            Mask::from_bytes(b"XXXX"),
            Err(SegmentError::CorruptMask(_))
        ));
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert_eq!(Mask::from_bytes(&v2), Err(SegmentError::MaskVersion(2)));
        // every truncation and every single-byte change either fails cleanly or decodes
        for n in 0..bytes.len() {
            assert!(Mask::from_bytes(&bytes[..n]).is_err(), "truncated at {n}");
        }
        for i in 0..bytes.len() {
            for x in [0u8, 0x7f, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] = x;
                let _ = Mask::from_bytes(&b);
            }
        }
        // a box outside the grid
        let mut outside = bytes.clone();
        outside[5 + 12..5 + 16].copy_from_slice(&100u32.to_le_bytes());
        assert!(Mask::from_bytes(&outside).is_err());
    }

    #[test]
    fn painting_grows_and_erasing_shrinks_the_box() {
        let mut m = Mask::empty([10, 10, 10]);
        m.paint_slice(2, 1..3, 1..3, true, |_, _| true);
        m.paint_slice(5, 7..9, 7..9, true, |_, _| true);
        assert_eq!(m.bounds(), ([2, 1, 1], [4, 8, 8]));
        assert_eq!(m.count(), 8);
        m.paint_slice(5, 0..10, 0..10, false, |_, _| true);
        assert_eq!(m.bounds(), ([2, 1, 1], [1, 2, 2]));
        m.paint_slice(2, 0..10, 0..10, false, |_, _| true);
        assert!(m.is_empty());
    }
}

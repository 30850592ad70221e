#!/usr/bin/env python3
"""Independent reference for `nadir inspect`: the same summary computed with pydicom.

For every case folder given, reads all files with pydicom (+ pylibjpeg decoders),
groups by SeriesInstanceUID (split by orientation/size as Nadir does), sorts along
the slice normal, masks to BitsStored, sign-extends, and computes the interchange §3
numbers: slices, rescaled min/max/mean and pixel_sha256 over stored values as
little-endian int32. Prints JSON keyed by folder.

    pip install pydicom numpy pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle
    python3 scripts/crosscheck_pydicom.py ../shared/dicom/nema-wg04/CT1_UNC ...
"""
import hashlib
import json
import os
import sys

import numpy as np
import pydicom


def stored_values(ds, arr):
    bits_stored = int(ds.BitsStored)
    signed = int(getattr(ds, "PixelRepresentation", 0)) == 1
    raw = arr.astype(np.int64) & ((1 << bits_stored) - 1)
    if signed:
        sign = 1 << (bits_stored - 1)
        raw = (raw ^ sign) - sign
    return raw


def frame_rescales(ds, n):
    def from_item(item):
        if item is None:
            return None
        s = getattr(item, "RescaleSlope", None)
        i = getattr(item, "RescaleIntercept", None)
        if s is None and i is None:
            return None
        return (float(s) if s is not None and float(s) != 0 else 1.0, float(i) if i is not None else 0.0)

    classic = from_item(ds)
    shared = None
    if "SharedFunctionalGroupsSequence" in ds:
        g = ds.SharedFunctionalGroupsSequence[0]
        if "PixelValueTransformationSequence" in g:
            shared = from_item(g.PixelValueTransformationSequence[0])
    out = []
    for k in range(n):
        r = None
        if "PerFrameFunctionalGroupsSequence" in ds and k < len(ds.PerFrameFunctionalGroupsSequence):
            g = ds.PerFrameFunctionalGroupsSequence[k]
            if "PixelValueTransformationSequence" in g:
                r = from_item(g.PixelValueTransformationSequence[0])
        out.append(r or shared or classic or (1.0, 0.0))
    return out


def frame_geometry(ds, n):
    def pos_or(item, name):
        return [float(v) for v in getattr(item, name)] if name in item else None

    classic_pos = pos_or(ds, "ImagePositionPatient")
    classic_iop = pos_or(ds, "ImageOrientationPatient")
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None
    out = []
    for k in range(n):
        pf = None
        if "PerFrameFunctionalGroupsSequence" in ds and k < len(ds.PerFrameFunctionalGroupsSequence):
            pf = ds.PerFrameFunctionalGroupsSequence[k]
        pos, iop = None, None
        for g in (pf, shared):
            if g is None:
                continue
            if pos is None and "PlanePositionSequence" in g:
                pos = pos_or(g.PlanePositionSequence[0], "ImagePositionPatient")
            if iop is None and "PlaneOrientationSequence" in g:
                iop = pos_or(g.PlaneOrientationSequence[0], "ImageOrientationPatient")
        out.append((pos or classic_pos, iop or classic_iop))
    return out


def summarise(folder):
    slices = []  # (series, iop_key, depth, instance, path, frame_array_stored, rescale)
    skipped = 0
    paths = []
    for root, _, files in os.walk(folder):
        paths += [os.path.join(root, f) for f in files]
    for p in sorted(paths):
        try:
            ds = pydicom.dcmread(p)
            if ds.file_meta.get("MediaStorageSOPClassUID") == "1.2.840.10008.1.3.10":
                raise ValueError("DICOMDIR")
            arr = ds.pixel_array
        except Exception:
            skipped += 1
            continue
        n = int(getattr(ds, "NumberOfFrames", 1) or 1)
        if n == 1:
            arr = arr[np.newaxis]
        stored = stored_values(ds, arr)
        rescales = frame_rescales(ds, n)
        geoms = frame_geometry(ds, n)
        group = p if n > 1 else ""
        for k in range(n):
            pos, iop = geoms[k]
            if pos is not None and iop is not None:
                normal = np.cross(np.array(iop[:3]), np.array(iop[3:]))
                depth = float(np.dot(normal, np.array(pos)))
                key = tuple(round(v, 3) for v in iop)
            else:
                depth, key = None, None
            slices.append((str(ds.SeriesInstanceUID), group, key, stored.shape[1:], depth,
                           int(getattr(ds, "InstanceNumber", 0) or 0), p, k, stored[k], rescales[k],
                           str(ds.SOPInstanceUID)))
    stacks = {}
    for s in slices:
        stacks.setdefault((s[0], s[1], s[2], s[3]), []).append(s)
    result = []
    for key, members in sorted(stacks.items(), key=lambda kv: str(kv[0])):
        if all(m[4] is not None for m in members):
            members.sort(key=lambda m: (m[4], m[5], m[6], m[7]))
        else:
            members.sort(key=lambda m: (m[5], m[6], m[7]))
        h = hashlib.sha256()
        lo, hi, total, count = None, None, 0.0, 0
        for m in members:
            st = m[8]
            h.update(st.astype("<i4").tobytes())
            slope, intercept = m[9]
            vals = st.astype(np.float64) * slope + intercept
            lo = vals.min() if lo is None else min(lo, vals.min())
            hi = vals.max() if hi is None else max(hi, vals.max())
            total += float(vals.sum())
            count += vals.size
        uids = []
        for m in members:
            if not uids or uids[-1] != m[10]:
                uids.append(m[10])
        result.append({
            "series_instance_uid": key[0],
            "slices": len(members),
            "instances_in_order": uids,
            "rescaled_min": float(lo),
            "rescaled_max": float(hi),
            "rescaled_mean": total / count,
            "pixel_sha256": h.hexdigest(),
        })
    return {"series": result, "skipped_count": skipped}


if __name__ == "__main__":
    print(json.dumps({os.path.relpath(f, os.path.dirname(os.path.dirname(f))): summarise(f)
                      for f in sys.argv[1:]}, indent=1))

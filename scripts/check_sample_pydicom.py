import json, glob, hashlib, os, sys
import numpy as np, pydicom
root = sys.argv[1]
truth = json.load(open(os.path.join(root, "truth.json")))
ok = True
for st in truth["series"]:
    files = sorted(glob.glob(os.path.join(root, st["directory"], "*.dcm")))
    ds = [pydicom.dcmread(f) for f in files]
    iop = np.array(ds[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    ds.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
    pos = np.array([d.ImagePositionPatient for d in ds], float)
    steps = np.diff(pos @ normal)
    h = hashlib.sha256()
    vals = []
    for d in ds:
        a = d.pixel_array.astype("<i4")
        h.update(a.tobytes())
        slope = float(getattr(d, "RescaleSlope", 1)); icpt = float(getattr(d, "RescaleIntercept", 0))
        vals.append(a * slope + icpt)
    v = np.stack(vals)
    checks = {
        "n": len(ds) == st["slices"],
        "uids": [d.SOPInstanceUID for d in ds] == st["instances_in_order"],
        "origin": np.allclose(pos[0], st["origin_mm"]),
        "spacing": np.allclose(steps, st["slice_spacing_mm"]) and np.allclose([float(x) for x in ds[0].PixelSpacing], st["pixel_spacing_mm"]),
        "thickness": float(ds[0].SliceThickness) == st["slice_thickness_mm"],
        "sha": h.hexdigest() == st["pixel_sha256"],
        "min/max/mean": abs(v.min()-st["rescaled_min"])<1e-9 and abs(v.max()-st["rescaled_max"])<1e-9 and abs(v.mean()-st["rescaled_mean"])<1e-6,
        "for": all(d.FrameOfReferenceUID == st["frame_of_reference_uid"] for d in ds),
        "ts": str(ds[0].file_meta.TransferSyntaxUID),
    }
    print(st["directory"], checks, "HU range %.0f..%.0f mean %.1f" % (v.min(), v.max(), v.mean()))
    ok &= all(x for k, x in checks.items() if k != "ts")
# lesion means at centre slice: 3x3 (CT) / MR 3x3 on nearest slice, muscle ratio
for l in truth["lesions"]:
    for mod in ["ct", "mr"]:
        st = next(s for s in truth["series"] if s["series_instance_uid"] == l[mod + "_series_instance_uid"])
        inst = l[mod + "_instance_number"]
        if inst is None: continue
        d = pydicom.dcmread(os.path.join(root, st["directory"], "%04d.dcm" % inst))
        a = d.pixel_array.astype(float) * float(getattr(d, "RescaleSlope", 1)) + float(getattr(d, "RescaleIntercept", 0))
        x, y, z = l[mod + "_centre_mm"]
        ox, oy, oz = [float(t) for t in d.ImagePositionPatient]
        dr, dc = [float(t) for t in d.PixelSpacing]
        c = int(round((x - ox) / dc)); r = int(round((y - oy) / dr))
        # ROI: inner ellipse half size of lesion
        a_, b_, _ = l["semi_axes_mm"]; th = np.radians(l["in_plane_rotation_deg"])
        yy, xx = np.mgrid[0:a.shape[0], 0:a.shape[1]]
        px = ox + xx * dc - x; py = oy + yy * dr - y
        u = (px*np.cos(th) + py*np.sin(th)) / (0.6*a_); w = (-px*np.sin(th) + py*np.cos(th)) / (0.6*b_)
        roi = a[(u*u + w*w) <= 1]
        expect = l["ct_mean_hu"] if mod == "ct" else l["mr_mean_si"]
        print("%-4s %-8s %s inst %2d ROI n=%4d mean %7.1f expected %7.1f" % (l["lesion_id"], l["visit"], mod, inst, roi.size, roi.mean(), expect))
print("ALL SERIES CHECKS OK" if ok else "FAILURES")

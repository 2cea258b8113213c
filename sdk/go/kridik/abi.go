//go:build wasip1

// The canonical ABI of kridik:plugin@0.2.0, by hand, for what the Go SDK
// exposes: snapshot.objects/source imported, checks.describe/run exported.
// Offsets follow the component model's layout rules (strings and lists are
// ptr,len pairs; records align to 4; option/result put a u8 tag first).
// sdk/go's test builds the example and compares its findings with the Rust
// SDK's, so a drift from the WIT shows up as a failing test.
package kridik

import (
	"runtime/debug"
	"unsafe"
)

// Memory handed to the host stays reachable for the instance's lifetime (one
// check run): kridik instantiates a check afresh for every run.
var pinned [][]byte

func alloc(size, align uint32) uint32 {
	if align == 0 {
		align = 1
	}
	if size == 0 {
		return align
	}
	buf := make([]byte, size+align)
	pinned = append(pinned, buf)
	p := uintptr(unsafe.Pointer(&buf[0]))
	return uint32((p + uintptr(align) - 1) &^ (uintptr(align) - 1))
}

// cabi_realloc serves the host's allocations for strings and lists it passes
// in (the WASI adapter allocates with memory.grow, see kridik-go-componentize).
//
//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	p := alloc(newSize, align)
	if old != 0 && oldSize > 0 {
		n := min(oldSize, newSize)
		copy(mem(p, n), mem(old, n))
	}
	return p
}

func mem(p, n uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n)
}

func u8(p uint32) uint8   { return *(*uint8)(unsafe.Pointer(uintptr(p))) }
func u32(p uint32) uint32 { return *(*uint32)(unsafe.Pointer(uintptr(p))) }
func putU8(p uint32, v uint8) {
	*(*uint8)(unsafe.Pointer(uintptr(p))) = v
}
func putU32(p uint32, v uint32) {
	*(*uint32)(unsafe.Pointer(uintptr(p))) = v
}

func str(p uint32) string {
	ptr, n := u32(p), u32(p+4)
	if n == 0 {
		return ""
	}
	return string(mem(ptr, n))
}

func putStr(p uint32, s string) {
	if len(s) == 0 {
		putU32(p, 1)
		putU32(p+4, 0)
		return
	}
	q := alloc(uint32(len(s)), 1)
	copy(mem(q, uint32(len(s))), s)
	putU32(p, q)
	putU32(p+4, uint32(len(s)))
}

func optStr(p uint32) *string {
	if u8(p) == 0 {
		return nil
	}
	s := str(p + 4)
	return &s
}

func putOptStr(p uint32, s *string) {
	if s == nil {
		putU8(p, 0)
		return
	}
	putU8(p, 1)
	putStr(p+4, *s)
}

// putList lays out n elements of `size` bytes and writes ptr,len at p.
func putList(p uint32, n int, size, align uint32, each func(i int, at uint32)) {
	base := alloc(uint32(n)*size, align)
	for i := 0; i < n; i++ {
		each(i, base+uint32(i)*size)
	}
	putU32(p, base)
	putU32(p+4, uint32(n))
}

// object-ref: api-version 0, kind 8, namespace 16, name 24, file 32, line 44; 52 bytes.
func readRef(p uint32) ObjectRef {
	r := ObjectRef{APIVersion: str(p), Kind: str(p + 8), Namespace: str(p + 16), Name: str(p + 24), File: optStr(p + 32)}
	if u8(p+44) != 0 {
		line := u32(p + 48)
		r.Line = &line
	}
	return r
}

func writeRef(p uint32, r ObjectRef) {
	putStr(p, r.APIVersion)
	putStr(p+8, r.Kind)
	putStr(p+16, r.Namespace)
	putStr(p+24, r.Name)
	putOptStr(p+32, r.File)
	if r.Line == nil {
		putU8(p+44, 0)
	} else {
		putU8(p+44, 1)
		putU32(p+48, *r.Line)
	}
}

func pairs(p uint32) [][2]string {
	base, n := u32(p), u32(p+4)
	out := make([][2]string, n)
	for i := uint32(0); i < n; i++ {
		out[i] = [2]string{str(base + i*16), str(base + i*16 + 8)}
	}
	return out
}

//go:wasmimport kridik:plugin/snapshot@0.2.0 objects
func wasmObjects(kindPtr, kindLen, ret uint32)

//go:wasmimport kridik:plugin/snapshot@0.2.0 source
func wasmSource() uint32

// hostCall runs an import with the collector off: a collection while the host
// calls back into cabi_realloc traps ("cannot leave component instance").
func hostCall(f func()) {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	f()
}

// objects: result<list<object>, unavailable> through a 24-byte return area;
// an object is target 0, uid 52, labels 60, annotations 68, creation 76, json 88; 96 bytes.
func importObjects(kind string) ([]Object, *Unavailable) {
	ret := alloc(24, 4)
	k := alloc(uint32(len(kind))+1, 1)
	copy(mem(k, uint32(len(kind))), kind)
	hostCall(func() { wasmObjects(k, uint32(len(kind)), ret) })
	if u8(ret) != 0 {
		p := ret + 4
		return nil, &Unavailable{Kind: str(p), Reason: unavailableReasons[u8(p+8)], Detail: str(p + 12)}
	}
	base, n := u32(ret+4), u32(ret+8)
	out := make([]Object, n)
	for i := uint32(0); i < n; i++ {
		p := base + i*96
		out[i] = Object{
			Target: readRef(p), UID: str(p + 52), Labels: pairs(p + 60), Annotations: pairs(p + 68),
			CreationTimestamp: optStr(p + 76), JSON: str(p + 88),
		}
	}
	return out, nil
}

var unavailableReasons = []string{"forbidden", "not-installed", "not-declared", "failed"}

func importSource() uint32 {
	var s uint32
	hostCall(func() { s = wasmSource() })
	return s
}

// check-info: id 0, title 8, description 16, severity 24, category 28, kinds 36; 44 bytes.
//
//go:wasmexport kridik:plugin/checks@0.2.0#describe
func exportDescribe() uint32 {
	ret := alloc(8, 4)
	putList(ret, len(registered), 44, 4, func(i int, p uint32) {
		c := registered[i].Info()
		putStr(p, c.ID)
		putStr(p+8, c.Title)
		putStr(p+16, c.Description)
		putU8(p+24, uint8(c.DefaultSeverity))
		putStr(p+28, c.Category)
		putList(p+36, len(c.Kinds), 8, 4, func(j int, q uint32) { putStr(q, c.Kinds[j]) })
	})
	return ret
}

// run: result<list<finding>, string> through a 12-byte return area.
//
//go:wasmexport kridik:plugin/checks@0.2.0#run
func exportRun(idPtr, idLen uint32) uint32 {
	id := string(mem(idPtr, idLen))
	ret := alloc(12, 4)
	findings, err := dispatch(id)
	if err != nil {
		putU8(ret, 1)
		putStr(ret+4, err.Error())
		return ret
	}
	putU8(ret, 0)
	putList(ret+4, len(findings), 120, 4, func(i int, p uint32) { writeFinding(p, findings[i]) })
	return ret
}

// finding: check-id 0, severity 8, confidence 9, title 12, message 20,
// object 28, evidence 80, remediation 88, references 112; 120 bytes.
func writeFinding(p uint32, f *Finding) {
	putStr(p, f.CheckID)
	putU8(p+8, uint8(f.Severity))
	putU8(p+9, uint8(f.Confidence))
	putStr(p+12, f.Title)
	putStr(p+20, f.Message)
	writeRef(p+28, f.Object)
	// evidence: label 0, source 4 (tag) / 8, detail 60; 68 bytes.
	putList(p+80, len(f.Evidence), 68, 4, func(i int, q uint32) {
		e := f.Evidence[i]
		putU8(q, uint8(e.Label))
		if e.Source == nil {
			putU8(q+4, 0)
		} else {
			putU8(q+4, 1)
			writeRef(q+8, *e.Source)
		}
		putStr(q+60, e.Detail)
	})
	// remediation: summary 0, yaml 8; 20 bytes, after its tag at 88.
	if f.Remediation == nil {
		putU8(p+88, 0)
	} else {
		putU8(p+88, 1)
		putStr(p+92, f.Remediation.Summary)
		putOptStr(p+100, f.Remediation.YAML)
	}
	putList(p+112, len(f.References), 8, 4, func(i int, q uint32) { putStr(q, f.References[i]) })
}

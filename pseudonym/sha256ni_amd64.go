//go:build amd64 && !purego

package pseudonym

// blockSHANI runs SHA-256's compression function on one block p from the
// state h, with the SHA extensions (see sha256ni_amd64.s). Call it only
// if haveSHANI.
//
//go:noescape
func blockSHANI(h *[8]uint32, p *[64]byte)

// shaniBuilt reports whether blockSHANI is built (amd64, not purego).
const shaniBuilt = true

// cpuid executes CPUID with EAX = leaf and ECX = sub.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// haveSHANI reports whether the processor has what blockSHANI uses: the
// SHA extensions (CPUID leaf 7, EBX bit 29), SSSE3 and SSE4.1 (leaf 1,
// ECX bits 9 and 19). SSE2 is part of amd64.
var haveSHANI = func() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	return ecx1&(1<<9) != 0 && ecx1&(1<<19) != 0 && ebx7&(1<<29) != 0
}()

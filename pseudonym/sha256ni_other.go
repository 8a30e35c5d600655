//go:build !amd64 || purego

package pseudonym

// blockSHANI is written for amd64 only (and not with the purego tag).
const shaniBuilt = false

// haveSHANI is false: see shaniBuilt.
const haveSHANI = false

func blockSHANI(h *[8]uint32, p *[64]byte) {
	panic("pseudonym: blockSHANI without the SHA extensions")
}

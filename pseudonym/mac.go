package pseudonym

import (
	"bytes"
	"crypto/fips140"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// newDigitsMAC returns HMAC-SHA256 under key of nine bytes, the function
// every pseudonym is made with. It does not allocate.
//
// The message is nine bytes, so after the key's block each of HMAC's two
// hashes is exactly one more block, padding included: the function starts
// each from the state after the key's block (kept marshalled, as
// crypto/hmac keeps it; FIPS 198-1 section 6 allows these intermediate
// results to be stored), writes that one block, and reads the state back as
// the hash, without the copies of the digest and the padding written
// through Write that crypto/hmac's Sum costs. The state is read in
// crypto/sha256's marshalled form; should that form ever change, the check
// below against crypto/hmac finds it, and the function is crypto/hmac's.
// In FIPS 140-3 mode it is crypto/hmac's too: the module's own HMAC.
//
// Where the processor has the SHA extensions (amd64), the two blocks go
// straight to the compression function (newNIMAC), without even the
// state's marshalling: the same check against crypto/hmac decides.
func newDigitsMAC(key []byte) func(d [9]byte) [Size]byte {
	if !fips140.Enabled() {
		if haveSHANI {
			if f, ok := newNIMAC(key); ok {
				return f
			}
		}
		if f, ok := newBlockMAC(key); ok {
			return f
		}
	}
	return newHMAC(key)
}

// newHMAC is newDigitsMAC with crypto/hmac.
func newHMAC(key []byte) func(d [9]byte) [Size]byte {
	h := hmac.New(sha256.New, key)
	// Buffers of the closure, not locals of a call: a local handed to the
	// hash.Hash interface would escape to the heap on every call.
	var digits [9]byte
	var sum [Size]byte
	return func(d [9]byte) [Size]byte {
		digits = d
		h.Reset()
		h.Write(digits[:])
		h.Sum(sum[:0])
		clear(digits[:])
		return sum
	}
}

// The marshalled state of a crypto/sha256 digest: a 4-byte identifier, the
// eight words of the state (big-endian), the 64-byte buffer, the length.
const (
	stateWords = 4
	stateSize  = 4 + 32 + 64 + 8
)

// newBlockMAC is newDigitsMAC from the stored key states; it reports false
// if that does not give crypto/hmac's MAC.
func newBlockMAC(key []byte) (func(d [9]byte) [Size]byte, bool) {
	inner, outer, ipad, opad, ok := keyStates(key)
	if !ok {
		return nil, false
	}
	type state interface {
		encoding.BinaryUnmarshaler
		encoding.BinaryAppender
	}
	in, ok1 := inner.(state)
	out, ok2 := outer.(state)
	if !ok1 || !ok2 {
		return nil, false
	}
	var block [sha256.BlockSize]byte
	var buf [stateSize]byte
	// hashBlock hashes block from the state after a key's block, and
	// returns the state after it: the hash, as block is the last one.
	hashBlock := func(h state, from []byte) []byte {
		err := h.UnmarshalBinary(from)
		if err == nil {
			h.(hash.Hash).Write(block[:])
			var st []byte
			if st, err = h.AppendBinary(buf[:0]); err == nil && len(st) == stateSize {
				return st[stateWords : stateWords+Size]
			}
		}
		// Its own state, marshalled a moment ago and checked below.
		panic("pseudonym: the SHA-256 state cannot be restored")
	}
	mac := func(d [9]byte) (sum [Size]byte) {
		// The inner block: the message, a 1 bit, zeros, the length in
		// bits of key block and message.
		block = [sha256.BlockSize]byte{}
		copy(block[:], d[:])
		block[len(d)] = 0x80
		binary.BigEndian.PutUint64(block[56:], (sha256.BlockSize+uint64(len(d)))*8)
		innerSum := hashBlock(in, ipad)
		// The outer block: the inner hash, padded the same way.
		block = [sha256.BlockSize]byte{}
		copy(block[:], innerSum)
		block[Size] = 0x80
		binary.BigEndian.PutUint64(block[56:], (sha256.BlockSize+Size)*8)
		copy(sum[:], hashBlock(out, opad))
		clear(block[:])
		clear(buf[:])
		return sum
	}
	if !sameMAC(mac, key) {
		return nil, false
	}
	return mac, true
}

// keyStates returns two SHA-256 digests after HMAC's key blocks under key
// (K0 xor ipad, K0 xor opad), and their states marshalled.
func keyStates(key []byte) (inner, outer hash.Hash, ipad, opad []byte, ok bool) {
	inner, outer = sha256.New(), sha256.New()
	// The key's blocks (HMAC's K0 xor ipad and xor opad), as crypto/hmac
	// makes them: a key longer than a block is hashed first.
	var k0 [sha256.BlockSize]byte
	if len(key) > sha256.BlockSize {
		sum := sha256.Sum256(key)
		copy(k0[:], sum[:])
	} else {
		copy(k0[:], key)
	}
	var pad [sha256.BlockSize]byte
	for i := range pad {
		pad[i] = k0[i] ^ 0x36
	}
	inner.Write(pad[:])
	for i := range pad {
		pad[i] = k0[i] ^ 0x5c
	}
	outer.Write(pad[:])
	clear(k0[:])
	clear(pad[:])
	ipad, err1 := marshal(inner)
	opad, err2 := marshal(outer)
	if err1 != nil || err2 != nil || len(ipad) != stateSize || len(opad) != stateSize {
		return nil, nil, nil, nil, false
	}
	return inner, outer, ipad, opad, true
}

// newNIMAC is newDigitsMAC with blockSHANI: each of HMAC's two hashes is
// one block from the state after the key's block, read from the marshalled
// state as eight big-endian words. It reports false if that does not give
// crypto/hmac's MAC. Call it only if haveSHANI.
func newNIMAC(key []byte) (func(d [9]byte) [Size]byte, bool) {
	_, _, ipad, opad, ok := keyStates(key)
	if !ok {
		return nil, false
	}
	var in, out [8]uint32
	for i := range in {
		in[i] = binary.BigEndian.Uint32(ipad[stateWords+4*i:])
		out[i] = binary.BigEndian.Uint32(opad[stateWords+4*i:])
	}
	clear(ipad)
	clear(opad)
	mac := func(d [9]byte) (sum [Size]byte) {
		// The inner block: the message, a 1 bit, zeros, the length in
		// bits of key block and message.
		var block [sha256.BlockSize]byte
		copy(block[:], d[:])
		block[len(d)] = 0x80
		binary.BigEndian.PutUint64(block[56:], (sha256.BlockSize+uint64(len(d)))*8)
		h := in
		blockSHANI(&h, &block)
		// The outer block: the inner hash, padded the same way.
		block = [sha256.BlockSize]byte{}
		for i, w := range h {
			binary.BigEndian.PutUint32(block[4*i:], w)
		}
		block[Size] = 0x80
		binary.BigEndian.PutUint64(block[56:], (sha256.BlockSize+Size)*8)
		h = out
		blockSHANI(&h, &block)
		for i, w := range h {
			binary.BigEndian.PutUint32(sum[4*i:], w)
		}
		clear(block[:])
		return sum
	}
	if !sameMAC(mac, key) {
		return nil, false
	}
	return mac, true
}

// sameMAC reports whether mac is crypto/hmac's HMAC-SHA256 under key, on a
// few messages.
func sameMAC(mac func(d [9]byte) [Size]byte, key []byte) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	h := hmac.New(sha256.New, key)
	for _, probe := range [][9]byte{{}, {'1', '2', '3', '4', '5', '6', '7', '8', '2'}, {0xff, 0x80, 0x36, 0x5c, 0, 1, 2, 3, 4}} {
		h.Reset()
		h.Write(probe[:])
		want := h.Sum(nil)
		got := mac(probe)
		if !bytes.Equal(got[:], want) {
			return false
		}
	}
	return true
}

func marshal(h hash.Hash) ([]byte, error) {
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

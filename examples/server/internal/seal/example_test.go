package seal_test

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/zorgkit/zorgkit/examples/server/internal/seal"
)

func Example() {
	secret := make([]byte, 32)
	rand.Read(secret) // from the server's key file in a real portal
	s, _ := seal.New(secret, "client handle")
	now := time.Now()

	h := s.Seal([]byte("session A"), now.Add(30*time.Minute), "subject-key", "******782")
	values, err := s.Open([]byte("session A"), h, now, 2)
	fmt.Println(values, err)
	_, err = s.Open([]byte("session B"), h, now, 2)
	fmt.Println(err)
	// Output:
	// [subject-key ******782] <nil>
	// seal: the handle is not valid here (expired, or made for another session)
}

package realip_test

import (
	"fmt"

	"github.com/zorgkit/zorgkit/examples/server/internal/realip"
)

func ExampleClient() {
	proxies, _ := realip.ParsePrefixes("10.0.0.0/8")
	// The load balancer at 10.0.0.2 appended the address it got the request
	// from; the client wrote the first entry itself.
	fmt.Println(realip.Client("10.0.0.2:51234", realip.XForwardedFor, []string{"1.2.3.4, 203.0.113.5"}, proxies))
	// A client that connects directly cannot choose its address.
	fmt.Println(realip.Client("198.51.100.1:5000", realip.XForwardedFor, []string{"1.2.3.4"}, proxies))
	// Output:
	// 203.0.113.5
	// 198.51.100.1
}

// cfsvcsim: VMware's vCenter simulator (govmomi's simulator.VPX) with the
// content-library REST API, for cloudfs's tests.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "address to listen on")
	cert := flag.String("cert", "", "TLS certificate (PEM) to serve; vcsim's own if empty")
	key := flag.String("key", "", "private key (PEM) of -cert")
	login := flag.String("u", "", "USER:PASSWORD, the only SOAP login accepted; any if empty")
	flag.Parse()
	m := simulator.VPX()
	defer m.Remove()
	if err := m.Create(); err != nil {
		log.Fatal(err)
	}
	m.Service.TLS = new(tls.Config)
	if *cert != "" {
		c, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			log.Fatal(err)
		}
		m.Service.TLS.Certificates = []tls.Certificate{c}
	}
	m.Service.RegisterEndpoints = true
	m.Service.Listen = &url.URL{Host: *listen}
	if user, pass, ok := strings.Cut(*login, ":"); ok {
		m.Service.Listen.User = url.UserPassword(user, pass)
	} else if *login != "" {
		log.Fatal("-u wants USER:PASSWORD")
	}
	s := m.Service.NewServer()
	defer s.Close()
	u := *s.URL
	u.User = nil // the password stays out of the log
	fmt.Println(u.String())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

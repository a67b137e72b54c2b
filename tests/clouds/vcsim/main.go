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
	"syscall"

	"github.com/vmware/govmomi/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	m := simulator.VPX()
	defer m.Remove()
	if err := m.Create(); err != nil {
		log.Fatal(err)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.RegisterEndpoints = true
	m.Service.Listen = &url.URL{Host: *listen}
	s := m.Service.NewServer()
	defer s.Close()
	fmt.Println(s.URL.String())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

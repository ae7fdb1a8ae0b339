package main

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	data := make([][]byte, 64)
	for i := range data {
		data[i] = make([]byte, 1<<20)
		for j := range data[i] {
			data[i][j] = byte(i*31 + j*7)
		}
	}
	sum := func() uint32 {
		h := crc32.NewIEEE()
		for _, b := range data {
			h.Write(b)
		}
		return h.Sum32()
	}
	want := sum()
	var ticks [50]int64
	var wg sync.WaitGroup
	for i := range ticks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for {
				time.Sleep(time.Millisecond)
				atomic.AddInt64(&ticks[i], 1)
			}
		}(i)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("FAIL go.listen", err)
		os.Exit(1)
	}
	var pings int64
	var pingErr atomic.Value
	go func() {
		c, err := ln.Accept()
		if err != nil {
			pingErr.Store(err.Error())
			return
		}
		r := bufio.NewReader(c)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				pingErr.Store("server read: " + err.Error())
				return
			}
			c.Write([]byte(l))
		}
	}()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			pingErr.Store(err.Error())
			return
		}
		r := bufio.NewReader(c)
		for n := int64(0); ; n++ {
			fmt.Fprintf(c, "%d\n", n)
			l, err := r.ReadString('\n')
			if err != nil || l != fmt.Sprintf("%d\n", n) {
				pingErr.Store(fmt.Sprintf("echo %d: %q %v", n, l, err))
				return
			}
			atomic.StoreInt64(&pings, n)
			time.Sleep(time.Millisecond)
		}
	}()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	pid := os.Getpid()
	fmt.Println("READY")
	<-ch
	fails := 0
	check := func(name string, ok bool, why string) {
		if ok {
			fmt.Println("PASS", name)
		} else {
			fmt.Println("FAIL", name+":", why)
			fails++
		}
	}
	check("go.pid", os.Getpid() == pid, "pid changed")
	check("go.memory", sum() == want, "checksum differs")
	var before [50]int64
	for i := range ticks {
		before[i] = atomic.LoadInt64(&ticks[i])
	}
	p0 := atomic.LoadInt64(&pings)
	t0 := time.Now()
	time.Sleep(300 * time.Millisecond)
	el := time.Since(t0)
	check("go.sleep", el >= 300*time.Millisecond && el < 5*time.Second, el.String())
	stuck := 0
	for i := range ticks {
		if atomic.LoadInt64(&ticks[i]) == before[i] {
			stuck++
		}
	}
	check("go.goroutines", stuck == 0, fmt.Sprintf("%d goroutines stuck", stuck))
	e, _ := pingErr.Load().(string)
	check("go.tcp", e == "" && atomic.LoadInt64(&pings) > p0, fmt.Sprintf("pings %d -> %d, %s", p0, atomic.LoadInt64(&pings), e))
	if fails > 0 {
		os.Exit(1)
	}
	os.Exit(0)
}

// Command paris-live-loadgen is the compiled load generator of bench/e2e.py: thousands of
// /v1/live WebSocket clients in one process that costs the server little CPU.
//
// It speaks the same line protocol as the Python load generator (`python -m bench.e2e
// --loadgen`), one JSON command per line on stdin, one JSON answer per line on stdout:
//
//	{"cmd": "connect", "port": P, "subscriptions": [["<subscribe message>", ops], ...]}
//	    → {"connected": N, "secs": S}     (each client has its snapshot when this answers)
//	{"cmd": "window", "since": T}         → {"since": T, "cpu_s": C}   (events timed ≥ T only)
//	{"cmd": "newest"}                     → {"newest": T, "newest_at": R}  (newest event time
//	                                        seen by any client, and when it was received)
//	{"cmd": "count"}                      → {"frames": N, "samples": N}   (window so far)
//	{"cmd": "collect"}                    → p50_ms, p95_ms, p99_ms, max_ms, samples, frames,
//	                                        ops_new, clients, frames_per_client, cpu_s, ...
//	{"cmd": "drop", "keep": K}            → {"connected": K}
//	{"cmd": "exit"}
//
// Latency sample, as in the Python client: a client receives an `update` whose status
// `last_data_at` is newer than anything it had for that facility → receive wall time −
// last_data_at. Every `update` frame counts in `frames`; `cpu_s` is this process's own user +
// system CPU time since it started (getrusage).
//
// The library opens each connection (HTTP upgrade, masked subscribe frame); one reader then reads
// every socket from an epoll set and parses the server's frames in place, answering pings: about
// one read call per frame, half of what a goroutine per socket costs (see reader).
//
// Environment: PARIS_LIVE_LOADGEN_PROCS (default 1 processor), PARIS_LIVE_LOADGEN_CPUPROFILE
// (a pprof CPU profile written there on exit).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

const opsClients = 5

var (
	facilityField = []byte(`"facility_id":"`)
	lastField     = []byte(`"last_data_at":"`)
)

// gen is what every client shares: the samples of the current window.
type gen struct {
	mu      sync.Mutex
	since   float64
	samples []float64
	opsNew  int64
	newest  float64
	// newestAt is the receive wall time of the frame that brought newest
	newestAt float64
	frames   atomic.Int64
	clients  []*client
	reader   *reader
}

type client struct {
	// conn did the handshake and is kept for closing; the reader reads the socket itself
	conn         *websocket.Conn
	tcp          *net.TCPConn
	fd           int32
	ops          bool
	seen         map[string]float64
	pending      []byte
	snapshot     chan error
	snapshotSeen bool
}

func nowSeconds() float64 {
	return float64(time.Now().UnixNano()) / 1e9
}

// update handles one `update` frame received at wall time now (seconds).
func (g *gen) update(c *client, payload []byte, now float64) {
	g.frames.Add(1)
	i := bytes.Index(payload, facilityField)
	j := bytes.Index(payload, lastField)
	if i < 0 || j < 0 {
		return
	}
	i += len(facilityField)
	end := bytes.IndexByte(payload[i:], '"')
	j += len(lastField)
	endLast := bytes.IndexByte(payload[j:], '"')
	if end < 0 || endLast < 0 {
		return
	}
	at, err := time.Parse(time.RFC3339Nano, string(payload[j:j+endLast]))
	if err != nil {
		return
	}
	atS := float64(at.UnixNano()) / 1e9
	facility := string(payload[i : i+end])
	if atS <= c.seen[facility] {
		return
	}
	c.seen[facility] = atS
	g.mu.Lock()
	defer g.mu.Unlock()
	if atS > g.newest {
		g.newest, g.newestAt = atS, now
	}
	if atS < g.since {
		return
	}
	g.samples = append(g.samples, (now-atS)*1000.0)
	if c.ops {
		g.opsNew++
	}
}

// reader is the one goroutine that reads every client: an epoll set over the sockets (as an
// asyncio loop would), frames parsed in place. A goroutine per socket costs two read calls per
// frame (the data, then EAGAIN before parking) and a wake-up each: more CPU than the API spends
// writing the frame, on the cores the API needs.
type reader struct {
	g     *gen
	epfd  int
	mu    sync.Mutex
	byFD  map[int32]*client
	chunk []byte
}

func newReader(g *gen) (*reader, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	return &reader{g: g, epfd: epfd, byFD: map[int32]*client{}, chunk: make([]byte, 256<<10)}, nil
}

func (r *reader) add(c *client) error {
	r.mu.Lock()
	r.byFD[c.fd] = c
	r.mu.Unlock()
	event := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: c.fd}
	return syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_ADD, int(c.fd), &event)
}

func (r *reader) remove(c *client) {
	r.mu.Lock()
	if r.byFD[c.fd] == c {
		delete(r.byFD, c.fd)
		_ = syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_DEL, int(c.fd), nil)
	}
	r.mu.Unlock()
}

func (r *reader) run() {
	runtime.LockOSThread()
	events := make([]syscall.EpollEvent, 512)
	for {
		n, err := syscall.EpollWait(r.epfd, events, 200)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			fmt.Fprintln(os.Stderr, "loadgen: epoll_wait:", err)
			os.Exit(1)
		}
		now := nowSeconds()
		for _, event := range events[:n] {
			r.mu.Lock()
			c := r.byFD[event.Fd]
			r.mu.Unlock()
			if c != nil && !r.receive(c, now) {
				r.remove(c)
				c.fail(fmt.Errorf("connection closed"))
			}
		}
	}
}

// receive reads what the socket holds and handles every whole frame; false once it closed.
func (r *reader) receive(c *client, now float64) bool {
	n, err := syscall.Read(int(c.fd), r.chunk)
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return true
	}
	if err != nil || n == 0 {
		return false
	}
	data := r.chunk[:n]
	if len(c.pending) > 0 {
		c.pending = append(c.pending, data...)
		data = c.pending
	}
	used := 0
	for {
		rest := data[used:]
		if len(rest) < 2 {
			break
		}
		opcode := rest[0] & 0x0F
		length := int(rest[1] & 0x7F)
		head := 2
		switch length {
		case 126:
			if len(rest) < 4 {
				goto partial
			}
			length, head = int(binary.BigEndian.Uint16(rest[2:4])), 4
		case 127:
			if len(rest) < 10 {
				goto partial
			}
			length, head = int(binary.BigEndian.Uint64(rest[2:10])), 10
		}
		if len(rest) < head+length {
			break
		}
		payload := rest[head : head+length]
		used += head + length
		switch opcode {
		case 1:
			if len(payload) >= 13 && string(payload[7:13]) == "update" {
				r.g.update(c, payload, now)
			} else {
				c.snapshotOnce()
			}
		case 8:
			return false
		case 9:
			c.pong(payload)
		}
	}
partial:
	if used == len(data) {
		c.pending = c.pending[:0]
	} else {
		c.pending = append(c.pending[:0], data[used:]...)
	}
	return true
}

// snapshotOnce tells the dialer the first frame (the snapshot) came.
func (c *client) snapshotOnce() {
	if !c.snapshotSeen {
		c.snapshotSeen = true
		c.snapshot <- nil
	}
}

func (c *client) fail(err error) {
	if !c.snapshotSeen {
		c.snapshotSeen = true
		c.snapshot <- err
	}
}

// pong answers a ping with its payload, masked (with a zero key) as a client frame must be.
func (c *client) pong(payload []byte) {
	if len(payload) > 125 {
		return
	}
	frame := append([]byte{0x8A, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
	_, _ = syscall.Write(int(c.fd), frame)
}

type subscription struct {
	message string
	ops     bool
}

func (s *subscription) UnmarshalJSON(data []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(data, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("a subscription is [message, ops]: %s", data)
	}
	if err := json.Unmarshal(pair[0], &s.message); err != nil {
		return err
	}
	return json.Unmarshal(pair[1], &s.ops)
}

// dial opens one client (the library's handshake), hands its socket to the reader, subscribes
// and waits for its snapshot; a few retries on refusal.
func (g *gen) dial(url string, sub subscription) (*client, error) {
	var lastErr error
	for attempt := 0; attempt < 6; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(200*attempt) * time.Millisecond)
		}
		c, err := g.dialOnce(url, sub)
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("could not connect: %w", lastErr)
}

func (g *gen) dialOnce(url string, sub subscription) (*client, error) {
	var tcp *net.TCPConn
	transport := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				tcp, _ = conn.(*net.TCPConn)
			}
			return conn, err
		},
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer hcancel()
	conn, _, err := websocket.Dial(hctx, url, &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: transport},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	if tcp == nil {
		_ = conn.CloseNow()
		return nil, fmt.Errorf("no TCP connection under the WebSocket")
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	c := &client{conn: conn, tcp: tcp, ops: sub.ops, seen: map[string]float64{}}
	c.snapshot = make(chan error, 1)
	_ = raw.Control(func(fd uintptr) { c.fd = int32(fd) })
	if err := g.reader.add(c); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = conn.Write(wctx, websocket.MessageText, []byte(sub.message))
	wcancel()
	if err == nil {
		select {
		case err = <-c.snapshot:
		case <-time.After(60 * time.Second):
			err = fmt.Errorf("no snapshot within 60 s")
		}
	}
	if err != nil {
		g.reader.remove(c)
		_ = conn.CloseNow()
		return nil, err
	}
	return c, nil
}

func (g *gen) connect(port int, subs []subscription) error {
	url := fmt.Sprintf("ws://127.0.0.1:%d/v1/live", port)
	gate := make(chan struct{}, 100)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, sub := range subs {
		gate <- struct{}{}
		wg.Add(1)
		go func(sub subscription) {
			defer wg.Done()
			defer func() { <-gate }()
			c, err := g.dial(url, sub)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			g.clients = append(g.clients, c)
		}(sub)
	}
	wg.Wait()
	return firstErr
}

func percentiles(values []float64) map[string]any {
	out := map[string]any{}
	if len(values) == 0 {
		for _, k := range []string{"p50_ms", "p95_ms", "p99_ms", "max_ms"} {
			out[k] = nil
		}
		return out
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	at := func(q float64) float64 {
		i := int(q * float64(len(sorted)))
		if i > len(sorted)-1 {
			i = len(sorted) - 1
		}
		return math.Round(sorted[i]*10) / 10
	}
	out["p50_ms"] = at(0.50)
	out["p95_ms"] = at(0.95)
	out["p99_ms"] = at(0.99)
	out["max_ms"] = math.Round(sorted[len(sorted)-1]*10) / 10
	return out
}

func ownCPU() (user, system float64) {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0, 0
	}
	return float64(usage.Utime.Nano()) / 1e9, float64(usage.Stime.Nano()) / 1e9
}

func (g *gen) collect() map[string]any {
	g.mu.Lock()
	out := percentiles(g.samples)
	out["samples"] = len(g.samples)
	out["ops_new"] = g.opsNew
	g.since = math.Inf(1)
	clients := len(g.clients)
	g.mu.Unlock()
	frames := g.frames.Load()
	out["frames"] = frames
	out["clients"] = clients
	perClient := 0.0
	if clients > 0 {
		perClient = math.Round(float64(frames)/float64(clients)*100) / 100
	}
	out["frames_per_client"] = perClient
	user, system := ownCPU()
	out["cpu_user_s"] = math.Round(user*1000) / 1000
	out["cpu_system_s"] = math.Round(system*1000) / 1000
	out["cpu_s"] = math.Round((user+system)*1000) / 1000
	out["loadgen"] = "go"
	return out
}

type command struct {
	Cmd           string         `json:"cmd"`
	Port          int            `json:"port"`
	Subscriptions []subscription `json:"subscriptions"`
	Since         float64        `json:"since"`
	Keep          int            `json:"keep"`
}

// tune keeps the generator light on the machine it measures: one processor by default (no
// scheduler threads spinning on the second core between frames; PARIS_LIVE_LOADGEN_PROCS=N for
// more), a lazier garbage collector (memory is cheap here, CPU is what is measured), and a CPU
// profile when PARIS_LIVE_LOADGEN_CPUPROFILE names a file. It returns what stops the profile.
func tune() func() {
	procs := 1
	if n, err := strconv.Atoi(os.Getenv("PARIS_LIVE_LOADGEN_PROCS")); err == nil && n > 0 {
		procs = n
	}
	runtime.GOMAXPROCS(procs)
	debug.SetGCPercent(400)
	path := os.Getenv("PARIS_LIVE_LOADGEN_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: profile:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

func main() {
	stopProfile := tune()
	defer stopProfile()
	g := &gen{since: math.Inf(1)}
	var err error
	if g.reader, err = newReader(g); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	go g.reader.run()
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := json.NewEncoder(os.Stdout)
	reply := func(v any) {
		if err := out.Encode(v); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: stdout:", err)
			os.Exit(1)
		}
	}
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return
			}
			continue
		}
		var cmd command
		if err := json.Unmarshal(line, &cmd); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: bad command:", err)
			os.Exit(2)
		}
		switch cmd.Cmd {
		case "connect":
			started := time.Now()
			if err := g.connect(cmd.Port, cmd.Subscriptions); err != nil {
				fmt.Fprintln(os.Stderr, "loadgen:", err)
				os.Exit(1)
			}
			secs := math.Round(time.Since(started).Seconds()*10) / 10
			reply(map[string]any{"connected": len(g.clients), "secs": secs})
		case "window":
			g.mu.Lock()
			g.since, g.samples, g.opsNew = cmd.Since, nil, 0
			g.frames.Store(0)
			g.mu.Unlock()
			user, system := ownCPU()
			cpu := math.Round((user+system)*1000) / 1000
			reply(map[string]any{"since": cmd.Since, "cpu_s": cpu})
		case "newest":
			g.mu.Lock()
			newest, newestAt := g.newest, g.newestAt
			g.mu.Unlock()
			reply(map[string]any{"newest": newest, "newest_at": newestAt})
		case "count":
			g.mu.Lock()
			samples := len(g.samples)
			g.mu.Unlock()
			reply(map[string]any{"frames": g.frames.Load(), "samples": samples})
		case "collect":
			reply(g.collect())
		case "drop":
			g.mu.Lock()
			keep := min(cmd.Keep, len(g.clients))
			dropped := g.clients[keep:]
			g.clients = g.clients[:keep]
			g.mu.Unlock()
			for _, c := range dropped {
				g.reader.remove(c)
				_ = c.conn.CloseNow()
			}
			time.Sleep(500 * time.Millisecond)
			reply(map[string]any{"connected": keep})
		case "exit":
			return
		default:
			fmt.Fprintln(os.Stderr, "loadgen: unknown command", cmd.Cmd)
			os.Exit(2)
		}
	}
}

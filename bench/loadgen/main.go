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
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
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
}

type client struct {
	conn   *websocket.Conn
	cancel context.CancelFunc
	ops    bool
	seen   map[string]float64
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

// read receives frames until the connection closes; the library answers pings while reading.
func (g *gen) read(ctx context.Context, c *client, snapshot chan<- error) {
	var buf bytes.Buffer
	first := true
	for {
		typ, r, err := c.conn.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if first {
				snapshot <- err
			}
			return
		}
		now := nowSeconds()
		payload := buf.Bytes()
		if typ != websocket.MessageText {
			continue
		}
		if len(payload) >= 13 && string(payload[7:13]) == "update" {
			g.update(c, payload, now)
		} else if first {
			first = false
			snapshot <- nil
		}
	}
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

// dial opens one client, subscribes and waits for its snapshot (a few retries on refusal).
func (g *gen) dial(url string, sub subscription) (*client, error) {
	var lastErr error
	for attempt := 0; attempt < 6; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(200*attempt) * time.Millisecond)
		}
		hctx, hcancel := context.WithTimeout(context.Background(), 30*time.Second)
		conn, _, err := websocket.Dial(hctx, url, &websocket.DialOptions{
			CompressionMode: websocket.CompressionDisabled,
		})
		hcancel()
		if err != nil {
			lastErr = err
			continue
		}
		conn.SetReadLimit(256 << 20)
		ctx, cancel := context.WithCancel(context.Background())
		c := &client{conn: conn, cancel: cancel, ops: sub.ops, seen: map[string]float64{}}
		snapshot := make(chan error, 1)
		go g.read(ctx, c, snapshot)
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		err = conn.Write(wctx, websocket.MessageText, []byte(sub.message))
		wcancel()
		if err == nil {
			select {
			case err = <-snapshot:
			case <-time.After(60 * time.Second):
				err = fmt.Errorf("no snapshot within 60 s")
			}
		}
		if err == nil {
			return c, nil
		}
		cancel()
		_ = conn.CloseNow()
		lastErr = err
	}
	return nil, fmt.Errorf("could not connect: %w", lastErr)
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

func main() {
	g := &gen{since: math.Inf(1)}
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
				c.cancel()
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

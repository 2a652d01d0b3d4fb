package store_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/models/store"
	"teleconsult/modeltest"
)

// The chat:send store path on Postgres (TEST_DATABASE_URL, as the tests):
// 128 senders at once (64 per CPU), each in a room of its own among 256,
// each sending its next message once the last is answered. Reported:
// msgs/s, the latency of one Send (p50, p99) in ms, and for group commit
// the messages per transaction.
//
//	go test ./models/store -run '^$' -bench 'ChatSend' -benchtime 60000x

// BenchmarkChatSendGroupCommit: concurrent messages share transactions.
func BenchmarkChatSendGroupCommit(b *testing.B) { benchChatSend(b, store.GroupCommit{}) }

// BenchmarkChatSendGroupCommitWorkers: the same with 1 to 8 transactions
// at once (GroupCommit.Workers).
func BenchmarkChatSendGroupCommitWorkers(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) { benchChatSend(b, store.GroupCommit{Workers: n}) })
	}
}

// BenchmarkChatSendPerMessage: one transaction per message, for comparison.
func BenchmarkChatSendPerMessage(b *testing.B) { benchChatSend(b, store.GroupCommit{Off: true}) }

// benchSenders is how many goroutines send at once (per GOMAXPROCS).
const benchSenders = 64

func benchChatSend(b *testing.B, gc store.GroupCommit) {
	const rooms = 256
	// The real clock: message times vary as they would in production.
	w := newGCWorldAt(b, modeltest.NewPostgres(b), rooms, gc, &modeltest.Clock{})
	var (
		next atomic.Int64
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, b.N)
	)
	b.ReportAllocs()
	b.SetParallelism(benchSenders)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1))
		room := g % rooms
		actor := apptActor(w.member(room, g/rooms))
		mine := make([]time.Duration, 0, 1024)
		for i := 0; pb.Next(); i++ {
			start := time.Now()
			_, _, err := w.p.Chat.Send(b.Context(), actor, models.SendInput{
				AppointmentID: w.rooms[room].ID, ClientMsgID: fmt.Sprintf("%d-%d", g, i), Text: "How are you feeling today?"})
			mine = append(mine, time.Since(start))
			if err != nil {
				b.Error(err)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	reportLatency(b, lat)
	reportBatches(b, w)
}

// reportBatches reports the messages per transaction of group commit.
func reportBatches(b *testing.B, w *gcWorld) {
	if st := w.p.Chat.CommitStats(); st.Transactions > 0 {
		b.ReportMetric(float64(st.Messages)/float64(st.Transactions), "msgs/txn")
	}
}

// BenchmarkChatSendGroupCommitAtRate: messages arrive at a steady rate
// whether or not earlier ones were answered (as from many clients), each
// to one of 256 rooms. Latency counts from when a message was due, so a
// store that falls behind shows it in p99; msgs/s below the rate means it
// could not keep up.
//
//	go test ./models/store -run '^$' -bench 'ChatSendGroupCommitAtRate' -benchtime 80000x
func BenchmarkChatSendGroupCommitAtRate(b *testing.B) {
	b.Run("8000/s", func(b *testing.B) { benchChatSendAt(b, store.GroupCommit{}, 8000) })
}

func benchChatSendAt(b *testing.B, gc store.GroupCommit, rate int) {
	const rooms = 256
	w := newGCWorldAt(b, modeltest.NewPostgres(b), rooms, gc, &modeltest.Clock{})
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			room := i % rooms
			_, _, err := w.p.Chat.Send(b.Context(), apptActor(w.member(room, i/rooms)), models.SendInput{
				AppointmentID: w.rooms[room].ID, ClientMsgID: fmt.Sprintf("m%d", i), Text: "How are you feeling today?"})
			lat[i] = time.Since(due)
			if err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	reportLatency(b, lat)
	reportBatches(b, w)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

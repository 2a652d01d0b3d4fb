package api

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"teleconsult/files"
	"teleconsult/models"
	"teleconsult/modeltest"
)

// pngBytes is a small valid PNG.
var pngBytes = pngOf(40, 30)

// pngOf encodes a w×h PNG.
func pngOf(w, h int) []byte {
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// pngClaiming returns a PNG whose header claims w×h pixels (with a valid
// checksum): what a decompression bomb looks like to a decoder.
func pngClaiming(w, h uint32) []byte {
	b := bytes.Clone(pngOf(1, 1))
	ihdr := b[12:29] // "IHDR" + 13 bytes of data
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(ihdr))
	return b
}

func withFiles(t *testing.T, limit int64) func(*modeltest.Options, *Config) {
	return func(o *modeltest.Options, c *Config) {
		d, err := files.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		o.Files, o.AttachmentMaxBytes, c.AttachmentMaxBytes = d, limit, limit
	}
}

func (a *testAPI) upload(token, apptID, field, name string, body []byte) response {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("client_msg_id", "up-"+name)
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = fw.Write(body)
	_ = mw.Close()
	req, _ := http.NewRequestWithContext(a.t.Context(), http.MethodPost, a.URL+"/api/v1/appointments/"+apptID+"/attachments", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return a.send(req)
}

func TestChatHistory(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d.Name, func(t *testing.T) { testChatHistory(t, newTestAPI(t, d.Open(t))) })
	}
}

func testChatHistory(t *testing.T, a *testAPI) {
	patient, pt := a.user(models.RolePatient, "hist-p@example.com")
	doctor, dt := a.user(models.RoleDoctor, "hist-d@example.com")
	_, st := a.user(models.RolePatient, "hist-s@example.com")
	_, at := a.user(models.RoleAdmin, "hist-a@example.com")
	appt := modeltest.MustAppointment(t, a.P, doctor, patient, time.Now().Add(time.Hour).Truncate(time.Minute), models.StatusBooked)
	for i := 1; i <= 3; i++ {
		if _, _, err := a.P.Chat.Send(t.Context(), models.Actor{UserID: patient.ID, Role: models.RolePatient},
			models.SendInput{AppointmentID: appt.ID, ClientMsgID: fmt.Sprint(i), Text: fmt.Sprintf("message %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Items []struct {
			Seq  int64
			Text string
		}
		NextCursor *string `json:"next_cursor"`
	}
	a.do("GET", "/api/v1/appointments/"+appt.ID+"/messages?limit=2", dt, nil).must(t, 200).decode(t, &page)
	if len(page.Items) != 2 || page.Items[0].Seq != 3 || page.Items[1].Seq != 2 || page.NextCursor == nil || *page.NextCursor != "2" {
		t.Fatalf("first page %+v", page)
	}
	a.do("GET", "/api/v1/appointments/"+appt.ID+"/messages?before_seq=2", pt, nil).must(t, 200).decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].Text != "message 1" || page.NextCursor != nil {
		t.Fatalf("second page %+v", page)
	}
	if r := a.do("GET", "/api/v1/appointments/"+appt.ID+"/messages", st, nil); r.Status != 404 {
		t.Fatalf("a stranger read the chat: %d %s", r.Status, r.Raw)
	}
	if r := a.do("GET", "/api/v1/appointments/"+appt.ID+"/messages?before_seq=x", pt, nil); r.ErrorCode() != models.EINVALID {
		t.Fatalf("bad before_seq: %d %s", r.Status, r.Raw)
	}
	// An admin states why (break-glass): without a reason, 403.
	if r := a.do("GET", "/api/v1/appointments/"+appt.ID+"/messages", at, nil); r.Status != 403 || r.ErrorCode() != models.EFORBIDDEN {
		t.Fatalf("admin read without a reason: %d %s", r.Status, r.Raw)
	}
	a.do("GET", "/api/v1/appointments/"+appt.ID+"/messages?reason="+url.QueryEscape("patient complaint"), at, nil).must(t, 200)
	var n int64
	a.DB.Table("audit_entries").Where("action = ? AND target_id = ?", "chat.read", appt.ID).Count(&n)
	if n != 1 {
		t.Fatalf("admin read of the chat audited %d times, want 1", n)
	}
}

func TestAttachments(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t), withFiles(t, 4096))
	patient, pt := a.user(models.RolePatient, "att-p@example.com")
	doctor, dt := a.user(models.RoleDoctor, "att-d@example.com")
	_, st := a.user(models.RolePatient, "att-s@example.com")
	appt := modeltest.MustAppointment(t, a.P, doctor, patient, time.Now().Add(time.Hour).Truncate(time.Minute), models.StatusBooked)

	var msg struct {
		Seq        int64
		Text       string
		Attachment struct {
			ID, URL     string
			ContentType string `json:"content_type"`
			Size        int64
		}
	}
	a.upload(pt, appt.ID, "file", "scan.png", pngBytes).must(t, 201).decode(t, &msg)
	if msg.Seq != 1 || msg.Attachment.ContentType != "image/png" || msg.Attachment.Size != int64(len(pngBytes)) || msg.Text != "scan.png" {
		t.Fatalf("upload answered %+v", msg)
	}
	r := a.do("GET", msg.Attachment.URL, dt, nil).must(t, 200)
	if !bytes.Equal(r.Raw, pngBytes) || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: %d bytes, type %q", len(r.Raw), r.Header.Get("Content-Type"))
	}
	if r := a.do("GET", msg.Attachment.URL, st, nil); r.Status != 404 {
		t.Fatalf("a stranger downloaded an attachment: %d", r.Status)
	}
	if r := a.upload(st, appt.ID, "file", "x.png", pngBytes); r.Status != 403 && r.Status != 404 {
		t.Fatalf("a stranger uploaded: %d %s", r.Status, r.Raw)
	}

	// Refused uploads store nothing.
	if r := a.upload(pt, appt.ID, "file", "evil.html", []byte("<html><script>alert(1)</script></html>")); r.ErrorCode() != models.EINVALID {
		t.Fatalf("html upload: %d %s", r.Status, r.Raw)
	}
	if r := a.upload(pt, appt.ID, "file", "big.png", append(pngBytes, make([]byte, 8192)...)); r.Status != 413 || r.ErrorCode() != models.ETOOLARGE {
		t.Fatalf("oversized upload: %d %s", r.Status, r.Raw)
	}
	if r := a.upload(pt, appt.ID, "document", "x.png", pngBytes); r.ErrorCode() != models.EINVALID {
		t.Fatalf("upload without a file field: %d %s", r.Status, r.Raw)
	}
	var count int64
	a.DB.Table("messages").Where("appointment_id = ?", appt.ID).Count(&count)
	if count != 1 {
		t.Fatalf("%d messages stored, want only the accepted upload", count)
	}
}

// Images over the pixel limit or that do not decode are refused; an
// uploader and a room have a daily byte quota.
func TestUploadLimits(t *testing.T) {
	a := newTestAPI(t, modeltest.NewPostgres(t), withFiles(t, 1<<20))
	a.P.Chat.MaxImagePixels = 40_000_000
	patient, pt := a.user(models.RolePatient, "lim-p@example.com")
	doctor, dt := a.user(models.RoleDoctor, "lim-d@example.com")
	appt := modeltest.MustAppointment(t, a.P, doctor, patient, time.Now().Add(time.Hour).Truncate(time.Minute), models.StatusBooked)

	for name, body := range map[string][]byte{
		"bomb.png":   pngClaiming(30000, 30000),
		"broken.png": append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 600)...),
	} {
		if r := a.upload(pt, appt.ID, "file", name, body); r.Status != 422 || r.Fields()["file"] == nil {
			t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	a.upload(pt, appt.ID, "file", "ok.png", pngClaiming(4000, 3000)).must(t, 201)

	a.P.Chat.UserDailyBytes = int64(len(pngBytes))
	a.P.Chat.MaxImagePixels = 0
	a.upload(pt, appt.ID, "file", "1.png", pngBytes).must(t, 201)
	r := a.upload(pt, appt.ID, "file", "2.png", pngBytes)
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != models.ERATELIMITED || r.Header.Get("Retry-After") == "" {
		t.Fatalf("over the uploader's quota: %d %s", r.Status, r.Raw)
	}
	// The doctor still may; then the room's quota stops both.
	a.upload(dt, appt.ID, "file", "d.png", pngBytes).must(t, 201)
	a.P.Chat.UserDailyBytes, a.P.Chat.RoomDailyBytes = 0, int64(2*len(pngBytes))
	if r := a.upload(dt, appt.ID, "file", "d2.png", pngBytes); r.Status != http.StatusTooManyRequests {
		t.Fatalf("over the room's quota: %d %s", r.Status, r.Raw)
	}
	// A day later the quota is free again.
	a.Clock.Set(time.Now().Add(25 * time.Hour))
	a.upload(dt, appt.ID, "file", "d3.png", pngBytes).must(t, 201)
}

// A broken or truncated multipart body is the client's mistake, not the
// server's: invalid_request, never internal or unavailable.
func TestBrokenUploadIsInvalid(t *testing.T) {
	a := newTestAPI(t, modeltest.NewSQLite(t), withFiles(t, 1<<20))
	patient, pt := a.user(models.RolePatient, "bu-p@example.com")
	doctor, _ := a.user(models.RoleDoctor, "bu-d@example.com")
	appt := modeltest.MustAppointment(t, a.P, doctor, patient, time.Now().Add(time.Hour).Truncate(time.Minute), models.StatusBooked)
	for name, body := range map[string]string{
		"not a header": "--B\r\nthis is not a header\r\n\r\nxx\r\n--B--\r\n",
		"truncated":    "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n" + string(pngBytes[:40]),
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", a.URL+"/api/v1/appointments/"+appt.ID+"/attachments", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		req.Header.Set("Authorization", "Bearer "+pt)
		if r := a.send(req); r.ErrorCode() != models.EINVALID {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
}

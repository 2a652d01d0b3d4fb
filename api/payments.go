package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"teleconsult/models"
	"teleconsult/wire"
)

// webhookMaxBytes caps a provider's event (Stripe's are a few KiB).
const webhookMaxBytes = 256 << 10

func (s *Server) paymentRoutes(public, authed, _ *gin.RouterGroup) {
	public.GET("/payments/config", s.paymentConfig)
	public.POST("/payments/webhook", s.paymentWebhook)
	authed.GET("/payments", s.listPayments)
	authed.GET("/payments/:id", s.getPayment)
}

func (s *Server) paymentConfig(c *gin.Context) {
	s.reply(c, http.StatusOK, s.svc.PaymentConfig)
}

// paymentWebhook takes a provider's signed event: 400 when the signature
// does not verify, 200 once handled (or already handled), 503 when the
// database is down so that the provider delivers it again.
func (s *Server) paymentWebhook(c *gin.Context) {
	if s.svc.Payments == nil {
		s.fail(c, models.Errorf(models.ENOTFOUND, "payments are not enabled"))
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, webhookMaxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.fail(c, models.Errorf(models.ETOOLARGE, "the event is too large"))
			return
		}
		s.fail(c, models.Errorf(models.EINVALID, "the event could not be read"))
		return
	}
	if err := s.svc.Payments.HandleWebhook(c.Request.Context(), payload, c.GetHeader); err != nil {
		if models.ErrorCode(err) == models.EINVALID {
			// An event that does not verify or parse is not one: 400.
			err = malformed(models.AsError(err).Message, nil)
		}
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, gin.H{"received": true})
}

func (s *Server) listPayments(c *gin.Context) {
	if s.svc.Payments == nil {
		s.reply(c, http.StatusOK, wire.List[wire.PaymentItem]{Items: []wire.PaymentItem{}})
		return
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.svc.Payments.List(c.Request.Context(), actor(c), models.PaymentFilter{
		Status: models.PaymentStatus(c.Query("status")), Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewList(p, wire.NewPaymentItem))
}

func (s *Server) getPayment(c *gin.Context) {
	if s.svc.Payments == nil {
		s.fail(c, models.Errorf(models.ENOTFOUND, "payment not found"))
		return
	}
	p, err := s.svc.Payments.Get(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reply(c, http.StatusOK, wire.NewPaymentItem(p))
}

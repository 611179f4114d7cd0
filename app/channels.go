package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"linli/calendar"
	"linli/channels"
	"linli/webhooks"
)

// ChannelsConfig configures the external notification channels, webhooks
// and calendar feeds.
type ChannelsConfig struct {
	// GatewayURL is the HTTP gateway WeChat and SMS copies of
	// notifications are POSTed to (channels.HTTPGateway); empty: they are
	// only logged (channels.LogSender).
	GatewayURL string
	// GatewaySecret signs the gateway's requests (at least 16 bytes).
	GatewaySecret string
	// GatewayTemplates is a JSON object: "KIND" or "CHANNEL.KIND" → the
	// gateway's template id.
	GatewayTemplates string
	// Sender, when set, sends instead of the gateway (another adapter).
	Sender channels.Sender
	// WebhooksAllowPrivate lets webhooks reach loopback, link-local,
	// private and unspecified addresses (tests).
	WebhooksAllowPrivate bool
	// PublicURL prefixes calendar feed links.
	PublicURL string
}

// minGatewaySecret is the shortest -gateway-secret accepted.
const minGatewaySecret = 16

// sender is the configured Sender of external channels: Sender, else the
// HTTP gateway when GatewayURL is set, else the log-only default.
func (c ChannelsConfig) sender(a *App) (channels.Sender, error) {
	if c.Sender != nil {
		return c.Sender, nil
	}
	if c.GatewayURL == "" {
		return channels.LogSender{Logger: a.Config.Logger}, nil
	}
	u, err := url.Parse(c.GatewayURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-gateway-url: %q is not an http(s) URL", c.GatewayURL)
	}
	if len(c.GatewaySecret) < minGatewaySecret {
		return nil, fmt.Errorf("-gateway-secret: at least %d characters are needed with -gateway-url", minGatewaySecret)
	}
	templates := map[string]string{}
	if c.GatewayTemplates != "" {
		if err := json.Unmarshal([]byte(c.GatewayTemplates), &templates); err != nil {
			return nil, fmt.Errorf("-gateway-templates: a JSON object of strings: %w", err)
		}
	}
	return &channels.HTTPGateway{URL: c.GatewayURL, Secret: []byte(c.GatewaySecret), Templates: templates,
		Client: &http.Client{Timeout: channels.GatewayTimeout + time.Second}}, nil
}

// wireChannels builds the channel, webhook and calendar services into the
// resolver (after wire built the rest).
func (a *App) wireChannels() {
	client, cfg := a.DB.Client, a.Config.Channels
	sender, err := cfg.sender(a)
	if err != nil {
		// New checked the configuration before wiring.
		panic(err)
	}
	a.Resolver.Channels = channels.NewService(client, sender, a.IDs.Encode)
	a.Resolver.Hooks = webhooks.New(client, webhooks.Options{AllowPrivate: cfg.WebhooksAllowPrivate},
		webhooks.Events(), a.IDs.Encode)
	a.Resolver.Calendar = calendar.New(client, cfg.PublicURL, a.IDs.Encode)
	// Copies on external channels and webhook deliveries are jobs; each
	// worked notification event becomes webhook deliveries in its own
	// transaction.
	a.Resolver.Channels.Register(a.Jobs)
	a.Resolver.Hooks.Register(a.Jobs)
	a.Notify.AddConsumer("webhooks", a.Resolver.Hooks.Consume)
}

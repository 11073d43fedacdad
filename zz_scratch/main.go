package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	base, id, tok := os.Args[1], os.Args[2], os.Args[3]
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath("chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.UserDataDir("/tmp/wl/prof")}
	a, c1 := chromedp.NewExecAllocator(context.Background(), opts...)
	defer c1()
	ctx, c2 := chromedp.NewContext(a)
	defer c2()
	ctx, c3 := context.WithTimeout(ctx, 90*time.Second)
	defer c3()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	studio, _ := chromedp.NewContext(ctx)
	must(chromedp.Do(studio, chromedp.Navigate(base+"/studio/"+id+"?key="+os.Args[4]+"&autostart=1")))
	for _, w := range []int64{1280, 390} {
		tab, _ := chromedp.NewContext(ctx)
		must(chromedp.Do(tab, chromedp.EmulateViewport(w, 900), chromedp.Navigate(base+"/watch/"+id)))
		time.Sleep(1500 * time.Millisecond)
		shot(tab, fmt.Sprintf("/tmp/wl/name-%d.png", w))
		chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('name').value='Ada Lovelace'; document.getElementById('name-form').requestSubmit(); true`))
		time.Sleep(3 * time.Second)
		api := func(m, p, body string) {
			req, _ := http.NewRequest(m, base+"/api/webinars/"+id+p, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			r, err := http.DefaultClient.Do(req)
			if err == nil {
				r.Body.Close()
			}
		}
		if w == 1280 {
			api("POST", "/chat", `{"text":"Welcome everyone! We start in two minutes."}`)
			api("POST", "/questions", `{"text":"Is the chlorophyll the only pigment?"}`)
		}
		chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('chat-text').value='Hello, I am here'; document.getElementById('chat-form').requestSubmit(); true`))
		time.Sleep(2 * time.Second)
		shot(tab, fmt.Sprintf("/tmp/wl/room-%d.png", w))
		chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById('tab-qa').click(); true`))
		time.Sleep(500 * time.Millisecond)
		shot(tab, fmt.Sprintf("/tmp/wl/qa-%d.png", w))
	}
}

func shot(tab context.Context, path string) {
	b, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		fmt.Println(err)
		return
	}
	os.WriteFile(path, b, 0o644)
}

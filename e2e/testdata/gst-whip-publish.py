#!/usr/bin/python3
"""A WHIP publisher made of Debian's GStreamer: webrtcbin (gstreamer1.0-plugins-bad) with
libnice (gstreamer1.0-nice), driven through python3-gi.

Debian 12 packages neither whipsink nor the Rust whipclientsink, and its simple-whip-client
aborts at start (libsoup2 beside the libsoup3 that libnice pulls in), so the few lines of WHIP
signalling (RFC 9725: POST the offer, apply the answer) are done here; the media, SDP, ICE,
DTLS and SRTP are all GStreamer's own.

Sends a VP8 test picture and an Opus tone for --seconds after the answer, then DELETEs the
session. With --audio-first the audio m-line comes first and video is the bundle-only line.
"""
import argparse
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice  # noqa: E402

VIDEO = (
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 "
    "! videoconvert ! queue ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ! queue "
    "! application/x-rtp,media=video,encoding-name=VP8,payload=96 ! w. "
)
AUDIO = (
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! queue ! opusenc "
    "! rtpopuspay pt=111 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w. "
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", nargs="?", help="WHIP endpoint")
    ap.add_argument("token", nargs="?", help="bearer token (the stream key)")
    ap.add_argument("--seconds", type=float, default=5, help="how long to send after the answer")
    ap.add_argument("--offer-file", help="write the SDP offer here")
    ap.add_argument("--local-address", action="append", default=[],
                    help="gather ICE candidates on this address only (repeatable; default: all)")
    ap.add_argument("--audio-first", action="store_true", help="audio m-line first")
    ap.add_argument("--check", action="store_true", help="only check that every element exists")
    args = ap.parse_args()
    if args.check:
        Gst.init(None)
        missing = [e for e in ("webrtcbin", "nicesrc", "dtlssrtpenc", "vp8enc", "rtpvp8pay", "opusenc",
                               "rtpopuspay", "videotestsrc", "audiotestsrc") if not Gst.ElementFactory.find(e)]
        if missing:
            print("missing GStreamer elements: " + " ".join(missing), file=sys.stderr)
            return 3
        return 0
    if not args.url or not args.token:
        ap.error("the WHIP URL and the bearer token are required")
    url, token, seconds, offer_file = args.url, args.token, args.seconds, args.offer_file
    Gst.init(None)
    media = AUDIO + VIDEO if args.audio_first else VIDEO + AUDIO
    pipe = Gst.parse_launch("webrtcbin name=w bundle-policy=max-bundle " + media)
    w = pipe.get_by_name("w")
    # libnice leaves loopback out when other interfaces exist; tests stay on loopback.
    # webrtcbin never sinks its ICE object's floating reference, so the Python wrapper would
    # take it over and free the object when collected: hold one more reference for webrtcbin.
    ice = w.get_property("ice-agent")
    ice.ref()
    agent = ice.get_property("agent")
    agent.set_property("upnp", False)  # no port mapping on a test machine
    for a in args.local_address:
        addr = Nice.Address.new()
        if not addr.set_from_string(a) or not agent.add_local_address(addr):
            print("gst-whip-publish: bad --local-address " + a, file=sys.stderr)
            return 2
    loop = GLib.MainLoop()
    state = {"session": None, "code": 1}

    def fail(msg):
        print("gst-whip-publish: " + msg, file=sys.stderr, flush=True)
        state["code"] = 1
        loop.quit()

    def post_offer():
        # Without trickle ICE the offer carries every candidate, so wait for gathering to end.
        if w.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            return
        if state["session"] is not None:
            return
        offer = w.get_property("local-description").sdp.as_text()
        if offer_file:
            with open(offer_file, "w") as f:
                f.write(offer)
        req = urllib.request.Request(url, data=offer.encode(), method="POST", headers={
            "Content-Type": "application/sdp", "Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=20) as res:
                answer = res.read().decode()
                state["session"] = urllib.parse.urljoin(url, res.headers.get("Location", ""))
                print("gst-whip-publish: %d %s" % (res.status, state["session"]), file=sys.stderr, flush=True)
        except urllib.error.HTTPError as e:
            return fail("WHIP POST answered %d: %s" % (e.code, e.read().decode(errors="replace")))
        except OSError as e:
            return fail("WHIP POST: %s" % e)
        _, msg = GstSdp.SDPMessage.new_from_text(answer)
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        w.emit("set-remote-description", desc, None)
        state["code"] = 0
        GLib.timeout_add(int(seconds * 1000), loop.quit)

    def on_gathering(*_):
        GLib.idle_add(post_offer)

    def on_offer(promise, _):
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        w.emit("set-local-description", offer, Gst.Promise.new())
        GLib.idle_add(post_offer)

    def on_negotiation_needed(_):
        # A publisher's transceivers only send; set it before the offer is made.
        for i in range(2):
            t = w.emit("get-transceiver", i)
            if t is not None:
                t.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        w.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer, None))

    def on_bus(_, message):
        if message.type == Gst.MessageType.ERROR:
            err, dbg = message.parse_error()
            fail("pipeline error: %s (%s)" % (err, dbg))

    w.connect("on-negotiation-needed", on_negotiation_needed)
    w.connect("notify::ice-gathering-state", on_gathering)
    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_bus)
    pipe.set_state(Gst.State.PLAYING)
    GLib.timeout_add(int((seconds + 30) * 1000), lambda: fail("timed out") or False)
    loop.run()
    if state["session"]:
        try:
            urllib.request.urlopen(urllib.request.Request(state["session"], method="DELETE", headers={
                "Authorization": "Bearer " + token}), timeout=5).close()
        except OSError:
            pass
    pipe.set_state(Gst.State.NULL)
    return state["code"]


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""aiortc (from PyPI) as the client of rtcpeer's `echo` server.

    aiortc_client.py --server http://127.0.0.1:PORT [--media echo|decline] [--seconds N]

aiortc offers an audio track (Opus), a video track (VP8; aiortc's synthetic 640x480 frames)
and a data channel, POSTs the offer to `/offer`, applies the answer, checks data channel
echoes, then counts what comes back: with `--media echo` each echoed track must deliver
frames that aiortc's own decoders (PyAV) decode; with `--media decline` the answer must be
accepted, no track may arrive and the data channel must work. Prints one JSON line with the
figures and `ok`; exits 0 when every check passed.

aioice leaves 127.0.0.1 out of its host candidates; the interop tests run in a namespace
that has only loopback, so the candidate list is set to 127.0.0.1 here.
"""

import argparse
import asyncio
import json
import sys
import time
import urllib.request

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def post_offer(server, sdp):
    request = urllib.request.Request(
        f"{server}/offer", data=sdp.encode(), headers={"Content-Type": "application/sdp"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get("Location"), response.read().decode()


def delete(server, location):
    request = urllib.request.Request(f"{server}{location}", method="DELETE")
    try:
        urllib.request.urlopen(request, timeout=5).read()
    except OSError:
        pass


async def count_frames(track, counts, kind):
    """Decoded frames of one echoed track, until it ends."""
    try:
        while True:
            frame = await track.recv()
            counts[kind] += 1
            if kind == "video":
                counts["video_size"] = [frame.width, frame.height]
    except MediaStreamError:
        pass


async def echo_checks(channel, sizes):
    results = []
    for size in sizes:
        payload = bytes((i * 7 + size) & 255 for i in range(size))
        got = asyncio.get_running_loop().create_future()

        def on_message(message, got=got):
            if not got.done():
                got.set_result(message)

        channel.on("message", on_message)
        channel.send(payload)
        try:
            message = await asyncio.wait_for(got, 5)
            results.append({"size": size, "ok": message == payload})
        except asyncio.TimeoutError:
            results.append({"size": size, "ok": False, "error": "no echo within 5 s"})
        channel.remove_listener("message", on_message)
    return results


async def run(args):
    pc = RTCPeerConnection()
    counts = {"audio": 0, "video": 0}
    tracks = []
    readers = []

    @pc.on("track")
    def on_track(track):
        tracks.append(track.kind)
        readers.append(asyncio.ensure_future(count_frames(track, counts, track.kind)))

    pc.addTrack(AudioStreamTrack())
    pc.addTrack(VideoStreamTrack())
    channel = pc.createDataChannel("echo")
    opened = asyncio.get_running_loop().create_future()
    channel.on("open", lambda: opened.done() or opened.set_result(True))
    await pc.setLocalDescription(await pc.createOffer())
    status, location, answer = await asyncio.to_thread(post_offer, args.server, pc.localDescription.sdp)
    result = {"status": status, "answer": answer}
    failures = []
    if status != 201:
        failures.append(f"POST /offer answered {status}: {answer}")
        return result, failures, pc
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    except Exception as e:  # aiortc raises plain exceptions for unacceptable answers
        failures.append(f"setRemoteDescription(answer): {e}")
        return result, failures, pc
    await asyncio.wait_for(opened, 15)
    result["echoes"] = await echo_checks(channel, [1, 1024, 16 * 1024])
    started = time.monotonic()
    await asyncio.sleep(args.seconds)
    result["seconds"] = round(time.monotonic() - started, 2)
    result["tracks"] = tracks
    result["decoded"] = dict(counts)
    result["lateEchoes"] = await echo_checks(channel, [64 * 1024])
    failures += [f"echo {e['size']} B failed" for e in result["echoes"] + result["lateEchoes"] if not e["ok"]]
    if args.media == "echo":
        # aiortc sends 30 video frames and 50 audio frames per second.
        if counts["video"] < 10 * args.seconds:
            failures.append(f"echoed video: {counts['video']} frames decoded in {args.seconds} s")
        if counts["audio"] < 25 * args.seconds:
            failures.append(f"echoed audio: {counts['audio']} frames decoded in {args.seconds} s")
    elif tracks:
        failures.append(f"tracks arrived although media was declined: {tracks}")
    delete(args.server, location)
    for reader in readers:
        reader.cancel()
    return result, failures, pc


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--media", default="echo", choices=["echo", "decline"])
    parser.add_argument("--seconds", type=float, default=4)
    args = parser.parse_args()
    try:
        result, failures, pc = await asyncio.wait_for(run(args), 60)
        await pc.close()
    except Exception as e:
        result, failures = {}, [f"client error: {type(e).__name__}: {e}"]
    result["ok"] = not failures
    result["failures"] = failures
    print(json.dumps(result))
    sys.exit(0 if not failures else 1)


if __name__ == "__main__":
    asyncio.run(main())

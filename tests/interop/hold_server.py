"""Serves the recorder page on 127.0.0.1 for record_chromium_sdp.sh.

GET /hold answers only once the page has called GET /release (or after 30 s), so the page's
load event, and with it Chromium's --dump-dom, waits until the page has written its SDPs.
"""
import http.server
import sys
import threading

released = threading.Event()


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/release":
            released.set()
            self.send_response(204)
            self.end_headers()
        elif self.path == "/hold":
            released.wait(30)
            self.send_response(404)
            self.end_headers()
        else:
            super().do_GET()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
server.serve_forever()

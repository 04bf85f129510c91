#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's gst-rtsp-server re-streaming an H.264 MP4 file at its
own pace, on rtsp://127.0.0.1:PORT/cam. Prints "ready" once listening. The stream ends at the end of
the file (clients then reconnect and start again). Needs Debian's python3-gi and
gir1.2-gst-rtsp-server-1.0 plus gstreamer1.0-plugins-{base,good,bad} (deploy/setup.sh --test).

usage: rtspServer.py PORT FILE.mp4
"""
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port, path = sys.argv[1], sys.argv[2]
server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(f'( filesrc location={path} ! qtdemux ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 )')
factory.set_shared(True)
server.get_mount_points().add_factory('/cam', factory)
if server.attach(None) == 0:
    sys.exit(f'cannot listen on 127.0.0.1:{port}')
print(f'ready rtsp://127.0.0.1:{port}/cam', flush=True)
GLib.MainLoop().run()

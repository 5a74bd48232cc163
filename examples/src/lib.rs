//! Runnable programs that show rtcpeer at work; see the `src/bin` folder.

//! A clip to play: encoded frames with their media times, walked in a loop whose media time
//! never jumps back, so the RTP timestamps made from it keep increasing across loops and
//! restarts.

use super::ivf::IvfFrame;
use std::time::Duration;

/// One encoded frame and when it plays, counted from the clip's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedFrame {
    /// Media time from the clip's start (the first frame is at zero).
    pub at: Duration,
    /// The encoded frame.
    pub data: Vec<u8>,
}

/// Frames in play order and the clip's length (from its first frame to the end of its last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    frames: Vec<TimedFrame>,
    length: Duration,
}

/// Why frames do not make a clip.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClipError {
    /// There is no frame.
    #[error("the clip has no frames")]
    Empty,
    /// A frame's time is before its predecessor's, or at or past the clip's length.
    #[error("frame {0} is out of order or past the clip's end")]
    OutOfOrder(usize),
}

/// Length assumed for the last frame of a one-frame IVF clip (one frame at 30 fps).
const LONE_FRAME: Duration = Duration::from_micros(33_333);

impl Clip {
    /// A clip of `frames` (their times non-decreasing, the first at zero or later) that
    /// lasts `length`.
    pub fn new(frames: Vec<TimedFrame>, length: Duration) -> Result<Self, ClipError> {
        if frames.is_empty() {
            return Err(ClipError::Empty);
        }
        for (i, pair) in frames.windows(2).enumerate() {
            if pair[1].at < pair[0].at {
                return Err(ClipError::OutOfOrder(i + 1));
            }
        }
        if frames.last().is_some_and(|f| f.at >= length) {
            return Err(ClipError::OutOfOrder(frames.len() - 1));
        }
        Ok(Self { frames, length })
    }

    /// The frames of an IVF file whose timestamps count `num/den` seconds. Times start at
    /// the first frame's; the last frame lasts as long as the one before it.
    pub fn from_ivf(frames: Vec<IvfFrame>, (num, den): (u32, u32)) -> Result<Self, ClipError> {
        let first = frames.first().ok_or(ClipError::Empty)?.pts;
        let time = |pts: u64| {
            let ticks = u128::from(pts.saturating_sub(first)) * u128::from(num);
            let nanos = ticks * 1_000_000_000 / u128::from(den.max(1));
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        };
        let timed: Vec<TimedFrame> = frames
            .into_iter()
            .map(|f| TimedFrame {
                at: time(f.pts),
                data: f.data,
            })
            .collect();
        let last_length = match timed.as_slice() {
            [.., before, last] if last.at > before.at => last.at - before.at,
            _ => LONE_FRAME,
        };
        let length = timed[timed.len() - 1].at + last_length;
        Self::new(timed, length)
    }

    /// Frames of known durations played back to back (audio packets): the first at zero,
    /// each next one when the previous ends.
    pub fn back_to_back(frames: Vec<(Vec<u8>, Duration)>) -> Result<Self, ClipError> {
        let mut at = Duration::ZERO;
        let mut timed = Vec::with_capacity(frames.len());
        for (data, length) in frames {
            timed.push(TimedFrame { at, data });
            at += length;
        }
        Self::new(timed, at)
    }

    /// The frames in play order.
    pub fn frames(&self) -> &[TimedFrame] {
        &self.frames
    }

    /// From the first frame's start to the last frame's end.
    pub fn length(&self) -> Duration {
        self.length
    }

    /// A walk over this clip from its first frame at media time zero.
    pub fn looped(&self) -> Looped<'_> {
        Looped {
            clip: self,
            index: 0,
            loop_start: Duration::ZERO,
        }
    }
}

/// Walks a clip again and again: the first frame of each pass follows the end of the
/// previous pass in media time.
#[derive(Debug)]
pub struct Looped<'a> {
    clip: &'a Clip,
    index: usize,
    loop_start: Duration,
}

impl<'a> Looped<'a> {
    /// The next frame and its media time since the walk began.
    pub fn next_frame(&mut self) -> (Duration, &'a [u8]) {
        let frame = &self.clip.frames[self.index];
        let at = self.loop_start + frame.at;
        self.index += 1;
        if self.index == self.clip.frames.len() {
            self.index = 0;
            self.loop_start += self.clip.length;
        }
        (at, &frame.data)
    }

    /// Media time of the frame [`next_frame`](Self::next_frame) gives next.
    pub fn next_at(&self) -> Duration {
        self.loop_start + self.clip.frames[self.index].at
    }

    /// Goes back to the clip's first frame (a keyframe in a video file), which then plays
    /// at the media time the skipped frame would have had: time goes on, the picture
    /// starts over.
    pub fn restart(&mut self) {
        self.loop_start = self.next_at() - self.clip.frames[0].at;
        self.index = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn ivf(pts: &[u64]) -> Vec<IvfFrame> {
        pts.iter()
            .map(|&p| IvfFrame {
                pts: p,
                data: vec![p as u8],
            })
            .collect()
    }

    #[test]
    fn ivf_times_start_at_the_first_frame_and_the_last_frame_lasts_like_its_predecessor() {
        let clip = Clip::from_ivf(ivf(&[10, 11, 12]), (1, 30)).unwrap();
        let at: Vec<_> = clip.frames().iter().map(|f| f.at).collect();
        assert_eq!(
            at,
            [
                ms(0),
                Duration::from_nanos(33_333_333),
                Duration::from_nanos(66_666_666)
            ]
        );
        assert_eq!(clip.length(), Duration::from_nanos(99_999_999));
    }

    #[test]
    fn loops_continue_media_time() {
        let clip = Clip::from_ivf(ivf(&[0, 1]), (1, 10)).unwrap();
        let mut walk = clip.looped();
        let times: Vec<_> = (0..5).map(|_| walk.next_frame()).collect();
        let at: Vec<_> = times.iter().map(|(t, _)| *t).collect();
        assert_eq!(at, [ms(0), ms(100), ms(200), ms(300), ms(400)]);
        let data: Vec<_> = times.iter().map(|(_, d)| d[0]).collect();
        assert_eq!(data, [0, 1, 0, 1, 0]);
    }

    #[test]
    fn restart_plays_the_first_frame_next_without_going_back_in_time() {
        let clip = Clip::from_ivf(ivf(&[0, 1, 2, 3]), (1, 10)).unwrap();
        let mut walk = clip.looped();
        walk.next_frame();
        walk.next_frame();
        walk.restart();
        assert_eq!(walk.next_frame(), (ms(200), &[0u8][..]));
        assert_eq!(walk.next_frame(), (ms(300), &[1u8][..]));
    }

    #[test]
    fn back_to_back_frames_follow_each_other() {
        let clip = Clip::back_to_back(vec![(vec![1], ms(20)), (vec![2], ms(40))]).unwrap();
        assert_eq!(clip.frames()[1].at, ms(20));
        assert_eq!(clip.length(), ms(60));
        let mut walk = clip.looped();
        walk.next_frame();
        walk.next_frame();
        assert_eq!(walk.next_frame().0, ms(60));
    }

    #[test]
    fn empty_and_unordered_frames_are_refused() {
        assert_eq!(Clip::from_ivf(Vec::new(), (1, 30)), Err(ClipError::Empty));
        assert_eq!(
            Clip::from_ivf(ivf(&[3, 5, 4]), (1, 30)),
            Err(ClipError::OutOfOrder(2))
        );
    }
}

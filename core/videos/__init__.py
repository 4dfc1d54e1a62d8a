"""The video site: sharing links, the feed, similar videos, safe URLs and downloads."""

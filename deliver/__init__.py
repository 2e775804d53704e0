"""Conversions delivered onward: postbacks to traffic sources and the ad platforms' conversion APIs."""

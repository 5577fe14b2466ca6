"""Inputs into the log: protocol and OpenElections files, the inbox, operator actions, replay."""

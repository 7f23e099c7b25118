"""Palettes new canvases start with. Index 0 is the background a cleared board goes back to."""

from __future__ import annotations

# fmt: off
PLACE_2022 = (
    "#ffffff", "#d4d7d9", "#898d90", "#515252", "#000000",
    "#6d001a", "#be0039", "#ff4500", "#ffa800", "#ffd635", "#fff8b8",
    "#00a368", "#00cc78", "#7eed56", "#00756f", "#009eaa", "#00ccc0",
    "#2450a4", "#3690ea", "#51e9f4", "#493ac1", "#6a5cff", "#94b3ff",
    "#811e9f", "#b44ac0", "#e4abff", "#de107f", "#ff3881", "#ff99aa",
    "#6d482f", "#9c6926", "#ffb470",
)
# fmt: on
"""The 32 colours of r/place 2022, white first."""

DEFAULT = PLACE_2022

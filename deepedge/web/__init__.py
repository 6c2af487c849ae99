"""The browser demo (`deepedge serve`): the shipped int8 models running in the visitor's own browser.

`server` is a small static site (standard library only, no TensorFlow, no inference on the
server); `assets` installs LiteRT.js, the LiteRT runtime compiled to WebAssembly, from the npm
registry into the user cache; `static/` holds the page, one panel per task, and the JavaScript
ports of the tokenizer and the decoding loops.
"""

"""The interactive console (Textual). The only package that imports textual."""

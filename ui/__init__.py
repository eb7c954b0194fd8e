"""Streamlit pages of the register; they call gis services and never hold SQL."""

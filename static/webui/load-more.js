// Keyset "load more": fetch the next page of thumbnails and append it, keeping the filters.
document.addEventListener("click", async (event) => {
  const link = event.target.closest("a.load-more");
  if (!link) return;
  event.preventDefault();
  link.textContent = "Loading…";
  const url = new URL(link.href, window.location.href);
  url.searchParams.set("partial", "1");
  const response = await fetch(url, { credentials: "same-origin" });
  const holder = document.createElement("div");
  holder.innerHTML = await response.text();
  const grid = link.parentElement;
  link.remove();
  grid.append(...holder.childNodes);
});
